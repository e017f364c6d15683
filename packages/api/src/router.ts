import { keysRouter } from "./routers/keys";
import { meRouter } from "./routers/me";
import { router } from "./trpc";

export const appRouter = router({
  me: meRouter,
  keys: keysRouter,
});

export type AppRouter = typeof appRouter;
