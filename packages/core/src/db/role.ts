import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { getTableName } from "drizzle-orm";
import type postgres from "postgres";
import type { Credentials } from "./credentials";
import { auditLog } from "./schema";

/** Tables the application may add rows to and read, but never change: the trigger's second lock. */
const appendOnly = [getTableName(auditLog)];

/**
 * A SCRAM-SHA-256 verifier (RFC 5803) for `password`, as `\password` in psql computes it: the
 * password itself never reaches the server, nor its logs (`log_statement = ddl` logs ALTER ROLE).
 */
function scramVerifier(password: string): string {
  const iterations = 4096;
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  const b64 = (bytes: Buffer) => bytes.toString("base64");
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Runs `work` again (up to 5 times) when another transaction changed the same catalog rows first
 * (Postgres then gives up on this one rather than wait), or the two deadlocked.
 */
async function retryingConcurrentUpdate<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      const concurrent = message === "tuple concurrently updated" || code === "40P01";
      if (attempt === 5 || !concurrent) throw error;
      await new Promise((done) => setTimeout(done, 20 * attempt));
    }
  }
}

/**
 * Makes the application role exist with this password and hold exactly the application's
 * privileges in this database, whatever it held before: SELECT, INSERT, UPDATE and DELETE on the
 * tables of `public` (SELECT and INSERT only on append-only ones), USAGE on their sequences.
 * Idempotent. Runs as the database's owner, after every migration run, so a table a migration adds
 * is covered by the same rule (rather than by default privileges, which would give a new
 * append-only table UPDATE and DELETE until someone remembered to take them away).
 *
 * Refuses a role that can do more than that through its attributes, a membership or an object it
 * owns: someone changed it by hand, and this would not undo it.
 */
export async function grantAppRole(sql: postgres.Sql, credentials: Credentials): Promise<void> {
  const role = credentials.username;
  if (!identifier.test(role)) throw new Error(`Invalid application role name "${role}"`);
  const quoted = `"${role}"`;
  // Utility statements take no bind parameters; the name is checked above and a verifier is
  // made of base64, digits, "$" and ":" only. The role is the cluster's: two processes readying it
  // at once (npm start and the CLI, test files) collide on its catalog row, and the later one may
  // simply try again.
  await retryingConcurrentUpdate(async () => {
    await sql.unsafe(`do $$ begin create role ${quoted} login;
      exception when duplicate_object or unique_violation then null; end $$`);
    await sql.unsafe(
      `alter role ${quoted} with login password '${scramVerifier(credentials.password)}'`,
    );
  }).catch((error: { code?: string; message?: string }) => {
    if (error.code !== "42501") throw error;
    throw new Error(
      `The database's owner cannot create or change the role ${role} (it needs CREATEROLE): ${error.message}`,
      { cause: error },
    );
  });

  const [attributes] = await sql<{ extra: string[] }[]>`
    select array_remove(array[
      case when rolsuper then 'superuser' end, case when rolcreaterole then 'createrole' end,
      case when rolcreatedb then 'createdb' end, case when rolreplication then 'replication' end,
      case when rolbypassrls then 'bypassrls' end], null) as extra
    from pg_roles where rolname = ${role}`;
  const memberships = await sql<{ name: string }[]>`
    select g.rolname as name from pg_auth_members m
    join pg_roles r on r.oid = m.member join pg_roles g on g.oid = m.roleid
    where r.rolname = ${role}`;
  const owned = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_roles r on r.oid = c.relowner
    where r.rolname = ${role}`;
  const beyond = [
    ...attributes!.extra,
    ...memberships.map((m) => `member of ${m.name}`),
    ...owned.map((o) => `owns ${o.name}`),
  ];
  if (beyond.length) {
    throw new Error(`Role ${role} can do more than the application needs (${beyond.join(", ")}):
  revoke it by hand; the grants are not applied while it stands`);
  }

  // Another run granting at once updates the same catalog rows: this one tries again.
  await retryingConcurrentUpdate(() =>
    sql.begin(async (tx) => {
      await tx.unsafe(`revoke all on all tables in schema public from ${quoted}`);
      await tx.unsafe(`revoke all on all sequences in schema public from ${quoted}`);
      await tx.unsafe(`grant usage on schema public to ${quoted}`);
      await tx.unsafe(
        `grant select, insert, update, delete on all tables in schema public to ${quoted}`,
      );
      for (const table of appendOnly) {
        await tx.unsafe(`revoke update, delete on public.${table} from ${quoted}`);
      }
      await tx.unsafe(`grant usage on all sequences in schema public to ${quoted}`);
      // PUBLIC has it unless an operator took it away.
      const [row] = await tx<{ database: string }[]>`select current_database() as database`;
      await tx.unsafe(
        `grant connect on database "${row!.database.replaceAll('"', '""')}" to ${quoted}`,
      );
    }),
  );
}
