import { ApiKey } from "@pregon/core";
import {
  ChannelEnv,
  channelSettings,
  checkOrigination,
  linkedEnv,
  parse,
  pepper,
} from "@pregon/functions/config";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);

const LocalEnv = ChannelEnv.extend({
  PREGON_OTP_PEPPER: pepper.optional(),
  PORT: port.default(3000),
  /** An existing Postgres, as its owner (`npm start` migrates it and readies the app's role). */
  DATABASE_URL: z.url().optional(),
  /** Under `sst shell`: the stage's owner, for `db migrate` (DATABASE_URL is then the app's role). */
  PREGON_DATABASE_OWNER_URL: z.url().optional(),
  PREGON_DATA_DIR: z.string().default(".pregon"),
  PREGON_PG_PORT: port.default(54320),
  PREGON_AWS_PORT: port.default(4566),
  PREGON_MAILBOX_PORT: port.default(8005),
  PREGON_SES_MAX_SEND_RATE: z.coerce.number().positive().default(200),
  /** The AWS SDK's own variable: an SES endpoint to send through instead of the embedded mailbox. */
  AWS_ENDPOINT_URL_SESV2: z.url().optional(),
  PREGON_BOOTSTRAP_API_KEY: ApiKey.Secret.optional(),
  AWS_REGION: z.string().default("us-east-1"),
  /**
   * Token issuers' keys may be fetched from loopback addresses (the development issuer): on by
   * default here, never on AWS, where the Lambda configuration has no such setting.
   */
  PREGON_JWT_ALLOW_LOOPBACK: z.enum(["true", "false"]).default("true"),
  /**
   * Webhooks may go to loopback addresses over plain HTTP (a receiver on this machine): on by
   * default here, never on AWS. Link-local and metadata addresses stay refused.
   */
  PREGON_WEBHOOK_ALLOW_LOOPBACK: z.enum(["true", "false"]).default("true"),
  /** The wait after a webhook's first failed attempt, multiplied by 4 per attempt (5 s). */
  PREGON_WEBHOOK_RETRY_SECONDS: z.coerce.number().min(0).default(5),
});

/**
 * The local stack's settings (docs/local-stack.md), read once at start. Under `sst shell` the database is
 * the stage's (linked, see linkedEnv) unless DATABASE_URL says otherwise.
 */
export function loadLocalConfig(env: NodeJS.ProcessEnv = { ...linkedEnv(), ...process.env }) {
  const e = parse(LocalEnv, env);
  const channels = channelSettings(e);
  checkOrigination(channels.sms);
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databaseOwnerUrl: e.PREGON_DATABASE_OWNER_URL,
    dataDir: e.PREGON_DATA_DIR,
    pgPort: e.PREGON_PG_PORT,
    awsPort: e.PREGON_AWS_PORT,
    mailboxPort: e.PREGON_MAILBOX_PORT,
    ...channels,
    publicUrl: e.PREGON_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    /** Emails per second the local sender sends at (on AWS: the account's SES quota). */
    sesMaxSendRate: e.PREGON_SES_MAX_SEND_RATE,
    sesEndpoint: e.AWS_ENDPOINT_URL_SESV2,
    bootstrapApiKey: e.PREGON_BOOTSTRAP_API_KEY,
    /** Without one, a pepper is made on first start and kept in the data directory. */
    otpPepper: e.PREGON_OTP_PEPPER,
    region: e.AWS_REGION,
    jwtAllowLoopback: e.PREGON_JWT_ALLOW_LOOPBACK === "true",
    webhookAllowLoopback: e.PREGON_WEBHOOK_ALLOW_LOOPBACK === "true",
    webhookRetrySeconds: e.PREGON_WEBHOOK_RETRY_SECONDS,
  };
}
export type LocalConfig = ReturnType<typeof loadLocalConfig>;
