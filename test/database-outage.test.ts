// Postgres frozen (SIGSTOP: the server accepts connections and never answers, so no server-side
// timeout fires) and Postgres stopped, on a Postgres of this file's own: both transports answer
// 503 database_unavailable with Retry-After within a few seconds, liveness stays 200, readiness
// says 503, and requests succeed again within about a second of Postgres being back.
import { execFileSync } from "node:child_process";
import { chownSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "@pregon/api";
import { Actor, Database, Issuer, Migrations } from "@pregon/core";
import { freePort, startPostgres } from "@pregon/local/stack";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, projectWithKey, settings } from "./support/fixtures";
import { startIssuer } from "./support/issuer";

/** Deadlines of this file: short, so a frozen server costs a second per request. */
const deadlineMs = 1_000;

const dataDir = await mkdtemp(join(tmpdir(), "pregon-outage-"));
const port = await freePort();
let pg = await startPostgres({ dataDir, port, ephemeral: true });
const appRole = Database.derivedCredentials(pg.url);
await Migrations.apply(pg.url, appRole);
await Database.close();
const appUrl = Database.urlAs(pg.url, appRole);
Database.configure({
  url: appUrl,
  queryTimeoutMs: deadlineMs,
  connectTimeoutMs: deadlineMs,
});

/** The postmaster and every backend it forked. */
function serverPids(): number[] {
  const postmaster = Number(
    readFileSync(join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0],
  );
  const children = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

let frozen: number[] = [];
const freeze = () => {
  frozen = serverPids();
  for (const pid of frozen) process.kill(pid, "SIGSTOP");
};
const thaw = () => {
  for (const pid of frozen.splice(0)) process.kill(pid, "SIGCONT");
};

afterAll(async () => {
  thaw();
  await Database.close();
  await pg.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const app = createApp(settings);
let secret: string;
/** A token of an issuer the key's project trusts. */
let token: string;
beforeAll(async () => {
  const { project, ...key } = await projectWithKey(["admin"]);
  secret = key.secret;
  Issuer.configure({ allowLoopback: true });
  const issuer = await startIssuer();
  await Actor.provide({ type: "system", reason: "cli", projectId: project.id }, () =>
    Issuer.create({ issuer: issuer.url, audience: issuer.audience, scopes: ["admin"] }),
  );
  token = await issuer.sign();
});

/** A request, timed; one that has no answer in 10 s fails the test rather than hanging it. */
async function timed(path: string, init: RequestInit = {}) {
  const start = performance.now();
  const response = await Promise.race([
    app.request(path, init),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${path}: no answer in 10 s`)), 10_000),
    ),
  ]);
  const body = await response.json();
  return {
    status: response.status,
    headers: response.headers,
    body,
    ms: performance.now() - start,
  };
}

const me = () => timed("/v1/me", { headers: bearer(secret) });
const trpcMe = () => timed("/trpc/me.get", { headers: bearer(secret) });

/** Polls /v1/me until it answers 200; how long that took. */
async function recovery(): Promise<number> {
  const start = performance.now();
  while ((await me()).status !== 200) {
    if (performance.now() - start > 10_000) throw new Error("not recovered in 10 s");
    await new Promise((done) => setTimeout(done, 50));
  }
  return performance.now() - start;
}

function expectUnavailable(answer: Awaited<ReturnType<typeof timed>>) {
  expect(answer.status).toBe(503);
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(Number(answer.headers.get("retry-after"))).toBeLessThanOrEqual(5);
  // Within a few seconds: the deadline, plus one for the reconnect.
  expect(answer.ms).toBeLessThan(deadlineMs * 2 + 1_000);
}

describe("a frozen Postgres", () => {
  it("answers 503 database_unavailable with Retry-After on both transports, and recovers", async () => {
    expect((await me()).status).toBe(200);
    freeze();
    try {
      const rest = await me();
      expectUnavailable(rest);
      expect(rest.body).toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        reason: "database_unavailable",
      });
      const trpc = await trpcMe();
      expectUnavailable(trpc);
      expect(trpc.body.error.data).toMatchObject({
        httpStatus: 503,
        reason: "database_unavailable",
      });
      // Liveness does not touch the database; readiness does.
      const live = await timed("/health");
      expect([live.status, live.body]).toEqual([200, { status: "ok" }]);
      expect(live.ms).toBeLessThan(500);
      const ready = await timed("/health/ready");
      expectUnavailable(ready);
      expect(ready.body).toMatchObject({ reason: "database_unavailable" });
      // Asked again at once, readiness answers from its cache: no second wait on the database.
      expect((await timed("/health/ready")).ms).toBeLessThan(200);
    } finally {
      thaw();
    }
    expect(await recovery()).toBeLessThan(2_000);
    await new Promise((done) => setTimeout(done, 1_100)); // past the readiness cache
    expect((await timed("/health/ready")).status).toBe(200);
  }, 30_000);
});

describe("a stopped Postgres", () => {
  it("answers 503 at once, and the first requests after it starts again succeed", async () => {
    expect((await me()).status).toBe(200);
    await pg.stop();
    const rest = await me();
    expectUnavailable(rest);
    expect(rest.ms).toBeLessThan(500);
    expect(rest.body).toMatchObject({ reason: "database_unavailable" });
    expectUnavailable(await trpcMe());
    // A token's issuer is looked up in the database too.
    const withToken = await timed("/v1/me", { headers: bearer(token) });
    expectUnavailable(withToken);
    expect(withToken.body).toMatchObject({ reason: "database_unavailable" });
    // Many failed connections in a row must not make the client wait long once it is back.
    for (let i = 0; i < 10; i++) expect((await me()).status).toBe(503);
    await new Promise((done) => setTimeout(done, 1_100));
    expect((await timed("/health/ready")).status).toBe(503);

    pg = await startPostgres({ dataDir, port, ephemeral: true });
    expect(await recovery()).toBeLessThan(2_000);
  }, 30_000);
});

describe("over TLS (sslmode, as RDS Proxy is reached)", () => {
  it("negotiates TLS itself, still drops a connection a frozen server leaves unanswered, and verifies certificates when told", async () => {
    // A self-signed certificate for the server, owned by whoever runs it.
    const dir = join(dataDir, "pg");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-keyout",
        join(dir, "server.key"),
        "-out",
        join(dir, "server.crt"),
      ],
      { stdio: "ignore" },
    );
    const { uid, gid } = statSync(dir);
    for (const file of ["server.key", "server.crt"]) chownSync(join(dir, file), uid, gid);
    const owner = postgres(pg.url, { max: 1, onnotice: () => {} });
    await owner`alter system set ssl = on`;
    await owner`select pg_reload_conf()`;
    await owner.end();
    await new Promise((done) => setTimeout(done, 500));

    await Database.close();
    const options = { queryTimeoutMs: deadlineMs, connectTimeoutMs: deadlineMs };
    Database.configure({ url: `${appUrl}?sslmode=require`, ...options });
    const [row] = await Database.use().execute<{ ssl: boolean }>(
      sql`select ssl from pg_stat_ssl where pid = pg_backend_pid()`,
    );
    expect(row!.ssl).toBe(true);
    expect((await me()).status).toBe(200);
    freeze();
    try {
      expectUnavailable(await me());
    } finally {
      thaw();
    }
    expect(await recovery()).toBeLessThan(2_000);

    // verify-full (what the Lambdas use): a certificate no trusted authority signed is refused.
    await Database.close();
    Database.configure({ url: `${appUrl}?sslmode=verify-full`, ...options });
    await expect(Database.use().execute(sql`select 1`)).rejects.toMatchObject({
      cause: { code: "DEPTH_ZERO_SELF_SIGNED_CERT" },
    });
    await Database.close();
    Database.configure({ url: appUrl, ...options });
  }, 30_000);
});
