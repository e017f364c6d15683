import { fileURLToPath } from "node:url";
import { migrate as runMigrations } from "drizzle-orm/postgres-js/migrator";
import { connect } from "./connect";
import type { Credentials } from "./credentials";
import { grantAppRole } from "./role";

/** The migrations, in the repository (a Lambda bundle carries its own copy). */
export const folder = fileURLToPath(new URL("../../migrations", import.meta.url));

/**
 * Applies pending migrations as the database's owner (`ownerUrl`), on its own short-lived
 * connection, then gives the application role (`app`) its privileges on what they left: created
 * if missing, its password set, the grants applied again (db/role.ts). `from`: where a Lambda
 * bundle carries the migrations (packages/functions/src/migrate.ts).
 */
export async function apply(ownerUrl: string, app: Credentials, from = folder): Promise<void> {
  // A migration may rewrite a large table: no deadline on its statements.
  const { client, db } = connect({ url: ownerUrl, max: 1, queryTimeoutMs: 0 });
  try {
    await runMigrations(db, { migrationsFolder: from });
    await grantAppRole(client, app);
  } finally {
    await client.end({ timeout: 5 });
  }
}
