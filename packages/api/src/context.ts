import type { ApiKey } from "@pregon/core";

/**
 * What every procedure sees. Plain data only, so the router's types (and the SDK built from them)
 * carry no database or AWS client types.
 */
export interface Context {
  requestId: string;
  /** The bearer token as sent; checked by the `authed` middleware, never logged. */
  apiKey: string | undefined;
}

export interface AuthedContext extends Context {
  principal: ApiKey.Principal;
}

export function createContext(request: Request, requestId: string): Context {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return { requestId, apiKey: match?.[1] };
}
