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

/**
 * What every procedure sees. Plain data only, so the router's types (and the SDK built from them)
 * carry no database or AWS client types. Who is calling is not here: the app authenticates the key
 * or token before any procedure runs and makes it the request's actor (core's `Actor`), which core reads.
 */
export interface Context {
  /** The `Idempotency-Key` header as sent; sends check it. */
  idempotencyKey: string | undefined;
  settings: Settings;
}

/** The bearer value as sent, an API key or a token (never logged), or undefined. */
export function bearerOf(request: Request): string | undefined {
  const header = request.headers.get("authorization") ?? "";
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

export function createContext(request: Request, settings: Settings): Context {
  const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
  return { idempotencyKey, settings };
}
