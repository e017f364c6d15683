/**
 * How a client says who it is, one of: an API key; a token of an issuer the project trusts (a JWT
 * from the company's identity provider); or `getToken`, called before each request, for tokens
 * that expire (return a cached one until it is about to).
 */
export type PregonCredentials =
  | { apiKey: string; token?: never; getToken?: never }
  | { token: string; apiKey?: never; getToken?: never }
  | { getToken: () => string | Promise<string>; apiKey?: never; token?: never };

/** The Authorization header the credentials give, for one request. */
export async function authorization(credentials: PregonCredentials): Promise<string> {
  const secret = credentials.getToken
    ? await credentials.getToken()
    : (credentials.apiKey ?? credentials.token);
  if (!secret) throw new TypeError("Pregón client: give apiKey, token or getToken");
  return `Bearer ${secret}`;
}
