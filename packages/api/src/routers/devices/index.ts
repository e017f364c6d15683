import { router } from "../../trpc";
import { list } from "./list";
import { register } from "./register";
import { remove } from "./remove";

export const devicesRouter = router({ register, list, remove });
