/**
 * What the app is configured with at start. Plain data declared here rather than imported, so the
 * router's types (and the SDK's bundled declarations) carry nothing of core.
 */
export interface Settings {
  /** `from`: the sender when a request names none; `senders`: addresses and `@domain`s allowed. */
  email: { from: string; senders: string[] };
  /** `countries`: ISO 3166 alpha-2 codes SMS (and one-time codes by SMS) may go to. */
  sms: { countries: string[] };
}

/** Who is calling: core's `ApiKey.Principal`, restated as plain data for the same reason. */
export interface Principal {
  keyId: string;
  projectId: string;
  scopes: string[];
}

/**
 * What every procedure sees. Plain data only, so the router's types (and the SDK built from them)
 * carry no database or AWS client types.
 */
export interface Context {
  requestId: string;
  /** Who is calling: the app authenticates the key before any procedure runs or body is read. */
  principal: Principal;
  /** The `Idempotency-Key` header as sent; sends check it. */
  idempotencyKey: string | undefined;
  settings: Settings;
}

/** The bearer token as sent (never logged), or undefined. */
export function apiKeyOf(request: Request): string | undefined {
  const header = request.headers.get("authorization") ?? "";
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

export function createContext(
  request: Request,
  requestId: string,
  principal: Principal,
  settings: Settings,
): Context {
  const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
  return { requestId, principal, idempotencyKey, settings };
}
