import { router } from "../../trpc";
import { get } from "./get";
import { list } from "./list";
import { preview } from "./preview";
import { put } from "./put";

export const templatesRouter = router({ put, get, list, preview });
