// The application role every function and every other test file connects as (the global setup
// readies it as `npm start` does; the Migrator does the same on AWS): rows of its tables, nothing
// else. The rest of the suite proves the grants are enough; this file, that they are no more.
import { randomBytes } from "node:crypto";
import { Database, Migrations } from "@pregon/core";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl, ownerUrl, stack } from "./support/setup";

const app = postgres(databaseUrl, { max: 1, onnotice: () => {} });
const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
afterAll(async () => {
  await app.end();
  await owner.end();
});

const permissionDenied = { code: "42501" };
/** Run as the application role in a transaction that is rolled back whatever happens. */
const attempt = (statement: string) =>
  app.begin(async (tx) => {
    await tx.unsafe(statement);
    throw new Error(`allowed: ${statement}`);
  });

const tables = async () =>
  (
    await owner<{ name: string }[]>`
      select tablename as name from pg_tables where schemaname = 'public' order by 1`
  ).map((row) => row.name);

describe("the application role", () => {
  it("is the role the suite connects as, and has no attribute beyond LOGIN", async () => {
    const [me] = await app`select current_user as name`;
    expect(me!.name).toBe(Database.appRole);
    expect(stack.app.username).toBe(Database.appRole);
    const [role] = await owner`
      select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin,
        (select count(*)::int from pg_auth_members m where m.member = r.oid) as memberships
      from pg_roles r where rolname = ${Database.appRole}`;
    expect(role).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
      rolcanlogin: true,
      memberships: 0,
    });
  });

  it("reads, inserts, updates and deletes the rows of every table; only reads and inserts the audit log", async () => {
    const all = await tables();
    expect(all).toEqual(expect.arrayContaining(["audit_log", "deliveries", "otps", "outbox"]));
    const kinds = ["select", "insert", "update", "delete", "truncate", "references", "trigger"];
    for (const table of all) {
      const privileges: Record<string, boolean> = {};
      for (const kind of kinds) {
        const [row] = await owner`
          select has_table_privilege(${Database.appRole}, ${`public.${table}`}, ${kind}) as has`;
        privileges[kind] = row!.has;
      }
      const dml = table !== "audit_log";
      expect(privileges, table).toEqual({
        select: true,
        insert: true,
        update: dml,
        delete: dml,
        truncate: false,
        references: false,
        trigger: false,
      });
    }
  });

  it("cannot alter, disable the trigger of, truncate, update or delete the audit log", async () => {
    for (const statement of [
      "alter table audit_log disable trigger audit_log_append_only",
      "alter table audit_log disable trigger all",
      "drop trigger audit_log_append_only on audit_log",
      "alter table audit_log add column note text",
      "alter table audit_log owner to pregon_app",
      "truncate audit_log",
      "update audit_log set type = 'x'",
      "delete from audit_log",
      "create or replace function audit_log_append_only() returns trigger language plpgsql as $$ begin return old; end $$",
      "set session_replication_role = replica",
    ]) {
      await expect(attempt(statement), statement).rejects.toMatchObject(permissionDenied);
    }
  });

  it("cannot drop, truncate or create a table, a trigger or a role", async () => {
    for (const statement of [
      "drop table deliveries",
      "truncate deliveries",
      "alter table deliveries drop column address",
      "create table public.mine (id int)",
      "create schema mine",
      "create trigger mine before insert on deliveries execute function audit_log_append_only()",
      "create role mine",
      `alter role ${Database.appRole} createrole`,
      "select * from drizzle.__drizzle_migrations",
    ]) {
      await expect(attempt(statement), statement).rejects.toMatchObject(permissionDenied);
    }
  });
});

describe("Migrations.apply", () => {
  it("grants a table a later migration adds, on the next run, and takes away what it should not hold", async () => {
    await owner`create table later_table (id int)`;
    await expect(app`select * from later_table`).rejects.toMatchObject(permissionDenied);
    await owner`grant truncate on audit_log to ${owner(Database.appRole)}`;

    await Migrations.apply(ownerUrl, stack.app);
    await app`insert into later_table values (1)`;
    expect(await app`select id from later_table`).toEqual([{ id: 1 }]);
    await expect(attempt("truncate audit_log")).rejects.toMatchObject(permissionDenied);
    await owner`drop table later_table`;
  });

  it("refuses a role that can do more, and sets the password it is given", async () => {
    // A role of this test alone: the application role is shared by every file of the run.
    const role = `pregon_test_${randomBytes(4).toString("hex")}`;
    const credentials = { username: role, password: randomBytes(12).toString("base64url") };
    try {
      await Migrations.apply(ownerUrl, credentials);
      const as = postgres(Database.urlAs(ownerUrl, credentials), { max: 1, onnotice: () => {} });
      expect(await as`select count(*)::int as n from deliveries`).toEqual([{ n: 0 }]);
      await as.end();

      await owner.unsafe(`alter role ${role} createdb`);
      await expect(Migrations.apply(ownerUrl, credentials)).rejects.toThrow(
        `Role ${role} can do more than the application needs (createdb)`,
      );
      await owner.unsafe(`alter role ${role} nocreatedb`);
      await owner.unsafe(`grant pg_read_all_data to ${role}`);
      await expect(Migrations.apply(ownerUrl, credentials)).rejects.toThrow(
        "member of pg_read_all_data",
      );
      await owner.unsafe(`revoke pg_read_all_data from ${role}`);

      const changed = { username: role, password: randomBytes(12).toString("base64url") };
      await Migrations.apply(ownerUrl, changed);
      const old = postgres(Database.urlAs(ownerUrl, credentials), { max: 1, onnotice: () => {} });
      await expect(old`select 1`).rejects.toMatchObject({ code: "28P01" });
      await old.end();
    } finally {
      await owner.unsafe(`drop owned by ${role}`);
      await owner.unsafe(`drop role if exists ${role}`);
    }
  });

  it("readies the role from several runs at once: the cluster is shared by npm start, the CLI, test files", async () => {
    const role = `pregon_test_${randomBytes(4).toString("hex")}`;
    const credentials = { username: role, password: randomBytes(12).toString("base64url") };
    try {
      await Promise.all(Array.from({ length: 6 }, () => Migrations.apply(ownerUrl, credentials)));
      const as = postgres(Database.urlAs(ownerUrl, credentials), { max: 1, onnotice: () => {} });
      expect(await as`select count(*)::int as n from deliveries`).toEqual([{ n: 0 }]);
      await as.end();
    } finally {
      await owner.unsafe(`drop owned by ${role}`);
      await owner.unsafe(`drop role if exists ${role}`);
    }
  });

  it("says so when the owner may not create roles", async () => {
    // A database of its own, owned by a role without CREATEROLE (a DATABASE_URL may be one).
    const suffix = randomBytes(4).toString("hex");
    const user = `pregon_owner_${suffix}`;
    const database = `pregon_owned_${suffix}`;
    await owner.unsafe(`create role ${user} login password 'owner-pw'`);
    await owner.unsafe(`create database ${database} owner ${user} template template0`);
    try {
      const url = Database.urlAs(ownerUrl.replace(/\/[^/]+$/, `/${database}`), {
        username: user,
        password: "owner-pw",
      });
      const role = `pregon_test_${suffix}`;
      await expect(
        Migrations.apply(url, { username: role, password: "x".repeat(20) }),
      ).rejects.toThrow(`The database's owner cannot create or change the role ${role}`);
    } finally {
      await owner.unsafe(`drop database ${database} with (force)`);
      await owner.unsafe(`drop role ${user}`);
    }
  });
});
