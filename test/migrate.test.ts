// The Migrator (packages/functions/src/migrate.ts), run twice against an empty database as two
// deploys would: the first applies every migration, the second changes nothing.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "@pregon/core";
import postgres from "postgres";
import { afterAll, expect, it } from "vitest";
import { stack } from "./support/setup";

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
  readFileSync(join(Database.migrationsFolder, "meta", "_journal.json"), "utf8"),
) as { entries: unknown[] };

const applied = async () =>
  (await sql`select count(*)::int as n from drizzle.__drizzle_migrations`)[0]!.n as number;
const tables = async () =>
  (
    await sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`
  ).map((row) => row.table_name as string);

it("applies every migration once, and a second run is a no-op", async () => {
  process.env.DATABASE_URL = url;
  const { handler, migrationsFolder } = await import("@pregon/functions/migrate");
  expect(migrationsFolder).toBe(Database.migrationsFolder);

  await handler();
  expect(await applied()).toBe(journal.entries.length);
  const after = await tables();
  expect(after).toEqual(expect.arrayContaining(["deliveries", "otps", "audit_log"]));

  await handler();
  expect(await applied()).toBe(journal.entries.length);
  expect(await tables()).toEqual(after);
});
