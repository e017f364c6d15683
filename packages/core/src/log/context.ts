import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Who a piece of work is for: the API sets it per request (its request id, then the key that
 * authenticated). Log lines carry it, and facts record it, without passing it through every call.
 */
export interface Context {
  requestId?: string;
  keyId?: string;
}

const storage = new AsyncLocalStorage<Context>();

/** Runs `fn` with `context` added to the current one. */
export function withContext<T>(context: Context, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

export function context(): Context {
  return storage.getStore() ?? {};
}
