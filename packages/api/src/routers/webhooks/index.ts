import { router } from "../../trpc";
import { attempts } from "./attempts";
import { create } from "./create";
import { get } from "./get";
import { list } from "./list";
import { remove } from "./remove";
import { replay } from "./replay";
import { rotateSecret } from "./rotate-secret";
import { update } from "./update";

export const webhooksRouter = router({
  create,
  list,
  get,
  update,
  remove,
  rotateSecret,
  attempts,
  replay,
});
