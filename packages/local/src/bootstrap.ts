import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Actor, ApiKey, Database, Issuer, Log, Migrations, Project } from "@pregon/core";
import * as DevIssuer from "./dev-issuer";

/**
 * Migrates the database as its owner (`ownerUrl`: the embedded Postgres's superuser, or
 * DATABASE_URL) and readies the application role, whose password is derived from the owner's;
 * returns the URL the application connects with, as that role.
 */
export async function prepareDatabase(ownerUrl: string): Promise<string> {
  const app = Database.derivedCredentials(ownerUrl);
  await Migrations.apply(ownerUrl, app);
  return Database.urlAs(ownerUrl, app);
}

export interface BootstrapKey {
  secret: string;
  /** Where the key came from, for the banner. */
  source: string;
}

/**
 * Makes sure the default project has a working full-scope key: `PREGON_BOOTSTRAP_API_KEY` when set,
 * otherwise a dev key created on first start and kept in the data directory (local use only), so
 * every later start can show it again.
 */
export async function ensureBootstrapKey(options: {
  dataDir: string;
  bootstrapApiKey: string | undefined;
}): Promise<BootstrapKey> {
  const project = await Project.ensure(Project.defaultName);
  const file = join(options.dataDir, "dev-api-key");
  let key: BootstrapKey;
  if (options.bootstrapApiKey) {
    key = { secret: options.bootstrapApiKey, source: "PREGON_BOOTSTRAP_API_KEY" };
  } else {
    const saved = await readFile(file, "utf8").then(
      (text) => text.trim(),
      () => undefined,
    );
    key = { secret: saved ?? ApiKey.generateSecret(), source: file };
    if (!saved) {
      await writeFile(file, `${key.secret}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
    }
  }
  Log.registerSecret(key.secret);
  await Actor.provide({ type: "system", reason: "start", projectId: project.id }, () =>
    ApiKey.ensure({ name: "bootstrap", secret: key.secret }),
  );
  return key;
}

/** The OTP pepper: `PREGON_OTP_PEPPER`, or one made on first start and kept in the data directory. */
export async function ensureOtpPepper(options: { dataDir: string; otpPepper: string | undefined }) {
  if (options.otpPepper) return options.otpPepper;
  const file = join(options.dataDir, "otp-pepper");
  const saved = await readFile(file, "utf8").then(
    (text) => text.trim(),
    () => undefined,
  );
  if (saved) return saved;
  const pepper = randomBytes(32).toString("base64url");
  await writeFile(file, `${pepper}\n`, { mode: 0o600 });
  return pepper;
}

/** The default project trusts the development issuer of the local stack serving on `port`. */
export async function ensureDevIssuer(port: number) {
  const project = await Project.ensure(Project.defaultName);
  await Actor.provide({ type: "system", reason: "start", projectId: project.id }, () =>
    Issuer.ensure(DevIssuer.trust(port)),
  );
}
