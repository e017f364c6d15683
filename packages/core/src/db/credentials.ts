import { createHmac } from "node:crypto";

/**
 * The role the application connects as: reads and writes the rows of its tables, and nothing else
 * (no DDL, no TRUNCATE, no triggers, owns nothing). Only the migrations run as the database's owner.
 * Roles belong to the whole Postgres cluster, not to one database.
 */
export const appRole = "pregon_app";

export interface Credentials {
  username: string;
  password: string;
}

/** The user and password a postgres URL carries. */
export function credentialsOf(url: string): Credentials {
  const parsed = new URL(url);
  return {
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** The same database and server, as another user. */
export function urlAs(url: string, credentials: Credentials): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(credentials.username);
  parsed.password = encodeURIComponent(credentials.password);
  return parsed.toString();
}

/**
 * Off AWS (the local stack, `sst dev`, the tests), the application role's password is derived from
 * the owner's: as secret as the owner's own, and the same for every process that knows it, so two
 * of them setting it never lock each other out. On AWS it is a generated secret (infra/).
 */
export function derivedCredentials(ownerUrl: string): Credentials {
  const { password } = credentialsOf(ownerUrl);
  return {
    username: appRole,
    password: createHmac("sha256", password).update(appRole).digest("base64url"),
  };
}
