// The Migrator (packages/functions/src/migrate.ts), run twice against an empty database as two
// deploys would: the first applies every migration and readies the application role, the second
// changes nothing.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { Database, Migrations } from "@pregon/core";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl, stack } from "./support/setup";

const name = `migrate_${randomBytes(6).toString("hex")}`;
const admin = postgres(stack.adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name} template template0`);
const url = stack.adminUrl.replace(/\/postgres$/, `/${name}`);
const sql = postgres(url, { max: 1, onnotice: () => {} });

afterAll(async () => {
  await sql.end();
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

const journal = JSON.parse(
  readFileSync(join(Migrations.folder, "meta", "_journal.json"), "utf8"),
) as { entries: unknown[] };

const applied = async () =>
  (await sql`select count(*)::int as n from drizzle.__drizzle_migrations`)[0]!.n as number;
const tables = async () =>
  (
    await sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`
  ).map((row) => row.table_name as string);

it("applies every migration once, grants the application role, and a second run is a no-op", async () => {
  // As the Migrator is linked: the owner (Resource.Database) and the role (Resource.AppDatabase).
  process.env.PREGON_DATABASE_OWNER_URL = url;
  const appUrl = Database.urlAs(url, Database.credentialsOf(databaseUrl));
  process.env.DATABASE_URL = appUrl;
  const { handler, migrationsFolder } = await import("@pregon/functions/migrate");
  expect(migrationsFolder).toBe(Migrations.folder);

  await handler({});
  expect(await applied()).toBe(journal.entries.length);
  const after = await tables();
  expect(after).toEqual(expect.arrayContaining(["deliveries", "otps", "audit_log"]));
  const app = postgres(appUrl, { max: 1, onnotice: () => {} });
  try {
    expect(await app`select count(*)::int as n from deliveries`).toEqual([{ n: 0 }]);
    await expect(app`drop table deliveries`).rejects.toMatchObject({ code: "42501" });
  } finally {
    await app.end();
  }

  await handler({});
  expect(await applied()).toBe(journal.entries.length);
  expect(await tables()).toEqual(after);
});

// On a first deploy the Migrator runs right after RDS Proxy registers its target, which then takes
// a while to accept connections: the Migrator waits for it, within a deadline, and never retries
// what waiting cannot fix.
describe("waitForDatabase", () => {
  const freePort = () =>
    new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
  const at = (port: number) => {
    const target = new URL(url);
    target.port = String(port);
    return target.toString();
  };

  it("waits until the database accepts connections", async () => {
    const { waitForDatabase } = await import("@pregon/functions/migrate");
    const port = await freePort();
    const postgresPort = Number(new URL(url).port);
    // Nothing listens on `port` for the first 1.5 s; then it forwards to Postgres.
    let proxy: Server | undefined;
    const opened = new Promise<void>((resolve) =>
      setTimeout(() => {
        proxy = createServer((client) => {
          const upstream = connect(postgresPort, "127.0.0.1");
          client.pipe(upstream).pipe(client);
          client.on("error", () => upstream.destroy());
          upstream.on("error", () => client.destroy());
        }).listen(port, "127.0.0.1", () => resolve());
      }, 1500),
    );
    const started = Date.now();
    try {
      await waitForDatabase(at(port), 20_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    } finally {
      await opened;
      await new Promise((resolve) => proxy?.close(resolve));
    }
  });

  it("gives up after its deadline with the connection's error", async () => {
    const { waitForDatabase } = await import("@pregon/functions/migrate");
    const started = Date.now();
    await expect(waitForDatabase(at(await freePort()), 2000)).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("does not retry a refused login", async () => {
    const { waitForDatabase } = await import("@pregon/functions/migrate");
    const wrong = new URL(url);
    wrong.password = "not-the-password";
    const started = Date.now();
    await expect(waitForDatabase(wrong.toString(), 20_000)).rejects.toMatchObject({
      code: "28P01",
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
