import { createApp } from "@pregon/api";
import { Actor, Database, Issuer, Log } from "@pregon/core";
import { eq } from "drizzle-orm";
import { base64url, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { trustedIssuers } from "../packages/core/src/db/schema";
import { outbox } from "../packages/core/src/outbox/outbox.sql";
import { callApp, projectWithKey, settings } from "./support/fixtures";
import { startIssuer, type TestIssuer } from "./support/issuer";

const cooldownMs = 2_000;
const app = createApp(settings);

/** A project trusting `issuer` (through the admin API), and its admin key. */
async function trusting(issuer: TestIssuer, mapping: object = { scopeClaim: "scope" }) {
  const { project, secret } = await projectWithKey(["admin"]);
  const created = await callApp(app, secret, "POST", "/v1/issuers", {
    issuer: issuer.url,
    audience: issuer.audience,
    ...mapping,
  });
  expect(created.status).toBe(201);
  return { project, secret, issuerId: created.body.id as string };
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
const me = (token: string) => callApp(app, token, "GET", "/v1/me");
const refusal = (status: number, code: string, reason: string) => ({
  status,
  body: expect.objectContaining({ code, reason }),
});

beforeAll(() => Issuer.configure({ allowLoopback: true, cooldownMs }));

describe("a token of a trusted issuer", () => {
  it("acts in the issuer's project with the scopes of its claim, on REST and tRPC", async () => {
    const issuer = await startIssuer();
    const { project } = await trusting(issuer);
    const token = await issuer.sign();
    expect(await me(token)).toMatchObject({
      status: 200,
      body: {
        project: { id: project.id },
        key: null,
        token: { issuer: issuer.url, subject: "billing-service" },
        scopes: ["emails:send", "notifications:read"],
      },
    });
    const trpc = await app.request("/trpc/me.get", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(trpc.status).toBe(200);
    // The claim's scopes are the token's: admin is not among them.
    expect(await callApp(app, token, "GET", "/v1/issuers")).toMatchObject(
      refusal(403, "FORBIDDEN", "missing_scope"),
    );
  });

  it("accepts RS256 and EdDSA, an `scp` list, and fixed scopes", async () => {
    const rsa = await startIssuer("RS256");
    await trusting(rsa, { scopeClaim: "scp" });
    const rsaMe = await me(await rsa.sign({ scp: ["audit:read", "unknown:scope"] }));
    expect(rsaMe).toMatchObject({ status: 200, body: { scopes: ["audit:read"] } });
    const ed = await startIssuer("EdDSA");
    await trusting(ed, { scopes: ["admin"] });
    expect(await me(await ed.sign({ scope: "" }))).toMatchObject({
      status: 200,
      body: { scopes: ["admin"] },
    });
  });

  it("refuses a token signed by another key", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    const stranger = await startIssuer();
    // Same issuer, audience and key id, another key: only the signature tells.
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await issuer.sign({}, { kid: (await issuer.rotate()).kid, privateKey, jwk: {} });
    expect(await me(forged)).toMatchObject(refusal(401, "UNAUTHORIZED", "invalid_token"));
    expect((await me(forged)).body.message).toMatch(/signature/);
    // Signed by another issuer's key, claiming to be this one.
    const other = await stranger.sign();
    const claims = { ...claimsOf(other), iss: issuer.url, aud: issuer.audience };
    const claimed = other.replace(other.split(".")[1]!, base64url.encode(JSON.stringify(claims)));
    expect(await me(claimed)).toMatchObject(refusal(401, "UNAUTHORIZED", "invalid_token"));
  });

  it("refuses alg none and HS256 signed with the issuer's public key, before any query", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    const payload = claimsOf(await issuer.sign());
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    const none = `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
    const jwks = await (await fetch(`${issuer.url}/keys`)).json();
    const hs256 = await new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", kid: jwks.keys[0].kid })
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    const jwksBefore = issuer.fetches.jwks;
    for (const token of [none, hs256]) {
      const answer = await me(token);
      expect(answer).toMatchObject(refusal(401, "UNAUTHORIZED", "invalid_token"));
      expect(answer.body.message).toMatch(/RS256, ES256, EdDSA/);
    }
    expect(issuer.fetches.jwks).toBe(jwksBefore);
  });

  it("refuses an expired token and one not valid yet, beyond a minute's leeway", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    const now = Math.floor(Date.now() / 1000);
    expect(await me(await issuer.sign({ exp: now - 120 }))).toMatchObject(
      refusal(401, "UNAUTHORIZED", "token_expired"),
    );
    expect(await me(await issuer.sign({ nbf: now + 300 }))).toMatchObject(
      refusal(401, "UNAUTHORIZED", "invalid_token"),
    );
    expect(await me(await issuer.sign({ iat: now + 300 }))).toMatchObject(
      refusal(401, "UNAUTHORIZED", "invalid_token"),
    );
    // Within the leeway: a clock a little ahead or behind the issuer's.
    expect((await me(await issuer.sign({ exp: now - 20, nbf: now + 20 }))).status).toBe(200);
  });

  it("refuses the wrong audience and an unknown issuer", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    expect(await me(await issuer.sign({ aud: "https://another.test" }))).toMatchObject(
      refusal(401, "UNAUTHORIZED", "issuer_not_trusted"),
    );
    const unknown = await startIssuer();
    expect(await me(await unknown.sign())).toMatchObject(
      refusal(401, "UNAUTHORIZED", "issuer_not_trusted"),
    );
    // Never fetched: nothing of an untrusted issuer is.
    expect(unknown.fetches).toEqual({ discovery: 0, jwks: 0 });
  });

  it("picks up a rotated key after the cooldown; a flood of unknown kids fetches nothing more", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    expect((await me(await issuer.sign())).status).toBe(200);
    expect(issuer.fetches.jwks).toBe(1);
    const fresh = await issuer.rotate();
    issuer.retireOld();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => issuer.sign({}, fresh)));
    // Within the cooldown the new kid is unknown, however many tokens carry it.
    const flood = await Promise.all(tokens.map(me));
    expect(flood.map((answer) => answer.body.reason)).toEqual(tokens.map(() => "invalid_token"));
    expect(issuer.fetches.jwks).toBe(1);
    await new Promise((done) => setTimeout(done, cooldownMs + 50));
    expect((await me(await issuer.sign({}, fresh))).status).toBe(200);
    expect(issuer.fetches).toEqual({ discovery: 1, jwks: 2 });
  });

  it("serves 1,000 requests with one token on one discovery fetch and one JWKS fetch", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    const token = await issuer.sign();
    const statuses: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => me(token)));
      statuses.push(...answers.map((answer) => answer.status));
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(1000);
    expect(issuer.fetches).toEqual({ discovery: 1, jwks: 1 });
  }, 120_000);
});

describe("trusted issuers", () => {
  it("are created, listed and removed through /v1/issuers, each change a fact", async () => {
    const issuer = await startIssuer();
    const { project, secret, issuerId } = await trusting(issuer);
    expect(await callApp(app, secret, "GET", "/v1/issuers")).toMatchObject({
      status: 200,
      body: { issuers: [{ id: issuerId, issuer: issuer.url, scopeClaim: "scope", scopes: null }] },
    });
    const token = await issuer.sign();
    expect((await me(token)).status).toBe(200);
    const removed = await callApp(app, secret, "DELETE", `/v1/issuers/${issuerId}`);
    expect(removed).toMatchObject({ status: 200, body: { id: issuerId } });
    expect(await me(token)).toMatchObject(refusal(401, "UNAUTHORIZED", "issuer_not_trusted"));
    expect(await callApp(app, secret, "DELETE", `/v1/issuers/${issuerId}`)).toMatchObject(
      refusal(404, "NOT_FOUND", "not_found"),
    );
    const facts = (
      await Database.use()
        .select()
        .from(outbox)
        .where(eq(outbox.topic, "events"))
        .orderBy(outbox.id)
    )
      .map((row) => JSON.parse(row.body))
      .filter((fact) => fact.subject === issuerId);
    expect(facts.map((fact) => fact.type)).toEqual(["issuer.created", "issuer.removed"]);
    expect(facts.every((fact) => fact.projectId === project.id)).toBe(true);
    expect(facts.every((fact) => fact.data.issuerId === issuerId)).toBe(true);
  });

  it("name one project: the same issuer and audience cannot be trusted twice", async () => {
    const issuer = await startIssuer();
    await trusting(issuer);
    const { secret } = await projectWithKey(["admin"]);
    const again = { issuer: issuer.url, audience: issuer.audience, scopes: ["admin"] };
    expect(await callApp(app, secret, "POST", "/v1/issuers", again)).toMatchObject(
      refusal(409, "CONFLICT", "already_exists"),
    );
    // Another audience of the same issuer is another pair.
    const other = { ...again, audience: "https://other.test" };
    expect((await callApp(app, secret, "POST", "/v1/issuers", other)).status).toBe(201);
  });

  it("need one scope mapping", async () => {
    const issuer = await startIssuer();
    const { secret } = await projectWithKey(["admin"]);
    const base = { issuer: issuer.url, audience: issuer.audience };
    for (const body of [base, { ...base, scopeClaim: "scp", scopes: ["admin"] }]) {
      expect(await callApp(app, secret, "POST", "/v1/issuers", body)).toMatchObject(
        refusal(400, "BAD_REQUEST", "invalid_input"),
      );
    }
  });

  it("record a token caller's issuer and subject on facts and logs, never the token", async () => {
    const issuer = await startIssuer();
    await trusting(issuer, { scopes: ["admin"] });
    const token = await issuer.sign({ sub: "deploy-bot" });
    const other = await startIssuer();
    const created = await callApp(app, token, "POST", "/v1/issuers", {
      issuer: other.url,
      audience: other.audience,
      scopes: ["emails:send"],
    });
    expect(created.status).toBe(201);
    const [row] = (
      await Database.use().select().from(outbox).where(eq(outbox.topic, "events"))
    ).filter((row) => JSON.parse(row.body).subject === created.body.id);
    expect(JSON.parse(row!.body)).toMatchObject({
      type: "issuer.created",
      actor: { type: "token", issuer: issuer.url, subject: "deploy-bot" },
    });
    expect(row!.body).not.toContain(token.split(".")[2]);
    // A log line carries them too, and a token written by mistake is scrubbed.
    expect(Log.scrub(`calling with ${token} now`)).toBe("calling with [redacted] now");
  });
});

describe("customer-supplied issuer URLs (loopback setting off)", () => {
  it("are refused when given, and again when fetched", async () => {
    Issuer.configure({ allowLoopback: false });
    try {
      const issuer = await startIssuer();
      const { project, secret } = await projectWithKey(["admin"]);
      for (const [field, url] of [
        ["issuer", issuer.url],
        ["jwksUrl", "https://169.254.169.254/latest/meta-data/"],
        ["jwksUrl", "https://localhost/keys"],
        ["issuer", "http://auth.example.com"],
      ] as const) {
        const body = { issuer: "https://auth.example.com", audience: "a", scopes: ["admin"] };
        const answer = await callApp(app, secret, "POST", "/v1/issuers", { ...body, [field]: url });
        expect(answer, url).toMatchObject(refusal(400, "BAD_REQUEST", "invalid_input"));
        expect(answer.body.message).toMatch(new RegExp(`^${field}: `));
      }
      // A row that got in anyway (written when the setting was on, or a name that resolved
      // elsewhere then): its URL is checked again when the keys are fetched, and never reached.
      await Actor.provide({ type: "system", reason: "cli", projectId: project.id }, () =>
        Database.use()
          .insert(trustedIssuers)
          .values({
            projectId: project.id,
            issuer: issuer.url,
            audience: issuer.audience,
            scopes: ["admin"],
            createdAt: new Date(),
          }),
      );
      const answer = await me(await issuer.sign());
      expect(answer).toMatchObject(refusal(401, "UNAUTHORIZED", "invalid_token"));
      expect(answer.body.message).toMatch(/keys could not be fetched/);
      expect(issuer.fetches).toEqual({ discovery: 0, jwks: 0 });
    } finally {
      Issuer.configure({ allowLoopback: true, cooldownMs });
    }
  });
});
