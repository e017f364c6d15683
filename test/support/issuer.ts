import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { afterAll } from "vitest";

const stops: Array<() => void> = [];
afterAll(() => {
  for (const stop of stops) stop();
});

/**
 * An identity provider on loopback (the setting the local stack has on): OpenID discovery and a
 * JWKS, counting each fetch, with keys that can be rotated.
 */
export async function startIssuer(alg: "ES256" | "RS256" | "EdDSA" = "ES256") {
  const signing: Array<{ kid: string; privateKey: CryptoKey; jwk: JWK }> = [];
  const addKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    const key = { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
    signing.unshift(key);
    return key;
  };
  await addKey();
  const fetches = { discovery: 0, jwks: 0 };
  let published = () => signing.map((key) => key.jwk);
  const server = createServer((request, response) => {
    response.setHeader("content-type", "application/json");
    if (request.url === "/.well-known/openid-configuration") {
      fetches.discovery++;
      response.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/keys` }));
    } else if (request.url === "/keys") {
      fetches.jwks++;
      response.end(JSON.stringify({ keys: published() }));
    } else {
      response.writeHead(404).end("{}");
    }
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  stops.push(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = `https://pregon.test/${randomUUID()}`;
  return {
    url,
    audience,
    fetches,
    /** A new key, published at once; tokens are signed with it from now on. */
    rotate: () => addKey(),
    /** Publishes only the current key (the old ones are retired). */
    retireOld: () => {
      published = () => [signing[0]!.jwk];
    },
    /** A token of this issuer (valid for 10 minutes unless `claims` says otherwise). */
    sign: (claims: JWTPayload = {}, key = signing[0]!) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: url,
        aud: audience,
        sub: "billing-service",
        iat: now,
        exp: now + 600,
        scope: "emails:send notifications:read",
        ...claims,
      })
        .setProtectedHeader({ alg, kid: key.kid, typ: "JWT" })
        .sign(key.privateKey);
    },
  };
}

export type TestIssuer = Awaited<ReturnType<typeof startIssuer>>;
