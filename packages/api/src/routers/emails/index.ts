import { router } from "../../trpc";
import { send } from "./send";

export const emailsRouter = router({ send });
