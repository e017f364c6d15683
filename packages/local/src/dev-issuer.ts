import { generateKeyPairSync } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiKey, type Issuer } from "@pregon/core";
import { Hono } from "hono";
import { importJWK, type JWK, SignJWT } from "jose";

/**
 * The local stack's development issuer: an identity provider of its own, so that token calls can
 * be tried without one. Its key pair is kept in the data directory; the app serves its discovery
 * document and public key on loopback, the default project trusts it with every scope, and
 * `npm run pregon -- tokens mint` signs tokens with it.
 */
export const audience = "pregon";
export const path = "/dev/issuer";
const algorithm = "ES256";

/** The issuer URL of the local stack serving on `port`. */
export const issuerUrl = (port: number) => `http://127.0.0.1:${port}${path}`;

/** The private key, made on first use and kept (mode 600) in the data directory. */
async function privateJwk(dataDir: string): Promise<JWK> {
  const file = join(dataDir, "dev-issuer-key.json");
  const saved = await readFile(file, "utf8").then(
    (text) => JSON.parse(text) as JWK,
    () => undefined,
  );
  if (saved) return saved;
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...(privateKey.export({ format: "jwk" }) as JWK), kid: "dev", alg: algorithm };
  await writeFile(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return jwk;
}

export async function publicJwk(dataDir: string): Promise<JWK> {
  const { d: _private, ...jwk } = await privateJwk(dataDir);
  return jwk;
}

/** The discovery document and key set, served under `path` by the local app. */
export function routes(issuer: () => string, key: JWK) {
  const app = new Hono();
  app.get(`${path}/.well-known/openid-configuration`, (c) =>
    c.json({ issuer: issuer(), jwks_uri: `${issuer()}/jwks.json` }),
  );
  app.get(`${path}/jwks.json`, (c) => c.json({ keys: [key] }));
  return app;
}

/** What the default project trusts the development issuer with. */
export const trust = (port: number): Issuer.CreateInput => ({
  issuer: issuerUrl(port),
  audience,
  scopes: [...ApiKey.scopes],
});

/** A token of the development issuer for `subject`, valid `ttlSeconds`. */
export async function mint(options: {
  dataDir: string;
  port: number;
  subject: string;
  ttlSeconds: number;
}): Promise<string> {
  const key = await importJWK(await privateJwk(options.dataDir), algorithm);
  return new SignJWT({})
    .setProtectedHeader({ alg: algorithm, kid: "dev", typ: "JWT" })
    .setIssuer(issuerUrl(options.port))
    .setAudience(audience)
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds}s`)
    .sign(key);
}
