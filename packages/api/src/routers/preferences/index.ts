import { router } from "../../trpc";
import { lookup } from "./lookup";
import { set } from "./set";

export const preferencesRouter = router({ lookup, set });
