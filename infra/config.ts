import { consumerTimeoutSeconds } from "../packages/functions/src/pipelines";

/** Until the RDS stack lands (infra/database.ts), the database is an external Postgres URL. */
export const databaseUrl = new sst.Secret("DatabaseUrl");
/** The secret of the HMACs that stand for OTP codes, destinations and IPs (32+ characters). */
export const otpPepper = new sst.Secret("OtpPepper");
/** The sender when a request names none; any address of its domain may send. */
export const emailFrom = new sst.Secret("EmailFrom", "Pregón <no-reply@example.com>");

/** What every Pregón function shares: runtime, environment and bundling. */
export const functionDefaults = {
  // Node 20 reached end of support on Lambda in 2026; the code runs on 20 and later.
  runtime: "nodejs22.x",
  memory: "512 MB",
  timeout: `${consumerTimeoutSeconds} seconds`,
  environment: {
    DATABASE_URL: databaseUrl.value,
    PREGON_EMAIL_FROM: emailFrom.value,
    PREGON_OTP_PEPPER: otpPepper.value,
    // trpc-to-openapi regenerates the whole OpenAPI document on every REST request otherwise.
    NODE_ENV: "production",
  },
  nodejs: {
    format: "esm",
    // No `banner` with the createRequire shim (DESIGN.md §6): for ESM, SST 4.17's own esbuild step
    // already prepends `const require = topLevelCreateRequire(import.meta.url)` (plus __filename
    // and __dirname) and puts `nodejs.banner` after it, so a second `const require` would make the
    // bundle a SyntaxError at load.
  },
} satisfies Partial<sst.aws.FunctionArgs>;
