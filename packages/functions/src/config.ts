import { ApiKey } from "@pregon/core";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
/** "no-reply@example.com" or "Name <no-reply@example.com>" */
const sender = z
  .string()
  .regex(/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, "must be an email address");

/** Unset and empty mean the same: the default. */
const unsetIfEmpty = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));

function parse<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(unsetIfEmpty(env));
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
}

const LocalEnv = z.object({
  PORT: port.default(3000),
  DATABASE_URL: z.url().optional(),
  PREGON_DATA_DIR: z.string().default(".pregon"),
  PREGON_PG_PORT: port.default(54320),
  PREGON_AWS_PORT: port.default(4566),
  PREGON_MAILBOX_PORT: port.default(8005),
  PREGON_EMAIL_FROM: sender.default("Pregón <no-reply@pregon.localhost>"),
  PREGON_BOOTSTRAP_API_KEY: ApiKey.Secret.optional(),
  AWS_REGION: z.string().default("us-east-1"),
});

/** The local stack's settings (DESIGN.md §5), read once at start. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parse(LocalEnv, env);
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.PREGON_DATA_DIR,
    pgPort: e.PREGON_PG_PORT,
    awsPort: e.PREGON_AWS_PORT,
    mailboxPort: e.PREGON_MAILBOX_PORT,
    emailFrom: e.PREGON_EMAIL_FROM,
    bootstrapApiKey: e.PREGON_BOOTSTRAP_API_KEY,
    region: e.AWS_REGION,
  };
}
export type LocalConfig = ReturnType<typeof loadLocalConfig>;

const LambdaEnv = z.object({ DATABASE_URL: z.url() });

/** A Lambda's settings, read once per cold start. */
export function loadLambdaConfig(env: NodeJS.ProcessEnv = process.env) {
  return { databaseUrl: parse(LambdaEnv, env).DATABASE_URL };
}
