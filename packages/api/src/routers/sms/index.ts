import { router } from "../../trpc";
import { send } from "./send";

export const smsRouter = router({ send });
