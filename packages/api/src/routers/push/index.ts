import { router } from "../../trpc";
import { send } from "./send";

export const pushRouter = router({ send });
