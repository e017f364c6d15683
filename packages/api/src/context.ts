import type { ApiKey, Email } from "@pregon/core";

/** What the app is configured with at start (plain data, like the rest of the context). */
export interface Settings {
  email: Email.Settings;
}

/**
 * What every procedure sees. Plain data only, so the router's types (and the SDK built from them)
 * carry no database or AWS client types.
 */
export interface Context {
  requestId: string;
  /** The bearer token as sent; checked by the `authed` middleware, never logged. */
  apiKey: string | undefined;
  /** The `Idempotency-Key` header as sent; sends check it. */
  idempotencyKey: string | undefined;
  settings: Settings;
}

export interface AuthedContext extends Context {
  principal: ApiKey.Principal;
}

export function createContext(request: Request, requestId: string, settings: Settings): Context {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
  return { requestId, apiKey: match?.[1], idempotencyKey, settings };
}
