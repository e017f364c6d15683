import { router } from "../../trpc";
import { cancel } from "./cancel";
import { get } from "./get";
import { send } from "./send";
import { verify } from "./verify";

export const otpRouter = router({ send, verify, get, cancel });
