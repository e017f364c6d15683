import { router } from "../../trpc";
import { get } from "./get";
import { list } from "./list";
import { put } from "./put";

export const categoriesRouter = router({ list, get, put });
