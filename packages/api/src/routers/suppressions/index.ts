import { router } from "../../trpc";
import { add } from "./add";
import { list } from "./list";
import { remove } from "./remove";

export const suppressionsRouter = router({ list, add, remove });
