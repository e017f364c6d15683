import * as Email from "@pregon/core/email";
import { defaultCountries } from "@pregon/core/phone/countries";
import * as Sms from "@pregon/core/sms";
import { Resource } from "sst";
import { z } from "zod";

/** Unset and empty mean the same: the default. */
const unsetIfEmpty = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));

export function parse<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(unsetIfEmpty(env));
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
}

const senderList = z
  .string()
  .transform((list) =>
    list
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^(?:[^\s@]+@[^\s@]+|@[^\s@]+)$/, "address or @domain")).min(1));

const countryList = z
  .string()
  .transform((list) =>
    list
      .split(",")
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[A-Z]{2}$/, "ISO 3166 alpha-2 codes, e.g. ES,MX")).min(1));

/** Who email is sent as, where its unsubscribe links point, when bulk email pauses. */
const EmailEnv = z.object({
  PREGON_EMAIL_FROM: Email.MailboxText.default("Pregón <no-reply@pregon.localhost>"),
  PREGON_EMAIL_SENDERS: senderList.optional(),
  /**
   * The public base URL of the API, where bulk email's unsubscribe links (`/u/{token}`) point.
   * Locally it defaults to the local server; on AWS infra/ sets it to the API's URL.
   */
  PREGON_PUBLIC_URL: z.url().optional(),
  /** The reputation guard's rolling window, and the sends in it before a rate counts. */
  PREGON_REPUTATION_WINDOW_HOURS: z.coerce.number().positive().max(720).default(24),
  PREGON_REPUTATION_MIN_VOLUME: z.coerce.number().int().min(1).default(500),
  PREGON_REPUTATION_ACCOUNT_MIN_VOLUME: z.coerce.number().int().min(1).default(1000),
});

/** Where SMS may go, as whom, and how fast. */
const SmsEnv = z.object({
  /** The countries SMS may go to (docs/sms-push.md). */
  PREGON_SMS_COUNTRIES: countryList.default(defaultCountries),
  /** SNS SMS sender identity; both optional, and not every country honours them. */
  PREGON_SMS_SENDER_ID: z
    .string()
    .regex(/^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/, "1-11 letters and digits, one letter at least")
    .optional(),
  /** Checked as a phone number by `checkOrigination`, where SMS is sent. */
  PREGON_SMS_ORIGINATION_NUMBER: z.string().optional(),
  /** SMS per second each sender instance sends at (SNS's default account quota is 20). */
  PREGON_SMS_RATE: z.coerce.number().positive().default(20),
});

/** The settings of the channels, read alike by the Lambdas and the local stack. */
export const ChannelEnv = EmailEnv.extend(SmsEnv.shape);

const reputationSettings = (e: z.infer<typeof EmailEnv>) => ({
  windowHours: e.PREGON_REPUTATION_WINDOW_HOURS,
  minVolume: {
    project: e.PREGON_REPUTATION_MIN_VOLUME,
    account: e.PREGON_REPUTATION_ACCOUNT_MIN_VOLUME,
  },
});

/** The sender settings; without PREGON_EMAIL_SENDERS, any address of the default sender's domain. */
function emailSettings(e: z.infer<typeof EmailEnv>): Email.Settings {
  const from = Email.parseMailbox(e.PREGON_EMAIL_FROM)!.address;
  return {
    from: e.PREGON_EMAIL_FROM,
    senders: e.PREGON_EMAIL_SENDERS ?? [from.slice(from.indexOf("@"))],
  };
}

function smsSettings(e: z.infer<typeof SmsEnv>) {
  return {
    countries: e.PREGON_SMS_COUNTRIES,
    senderId: e.PREGON_SMS_SENDER_ID,
    originationNumber: e.PREGON_SMS_ORIGINATION_NUMBER,
    rate: e.PREGON_SMS_RATE,
  };
}

/**
 * Refuses an origination number that is not a valid phone number. Apart from SmsEnv so that the
 * phone metadata the check loads (libphonenumber-js, about 150 KiB) is only in what sends SMS: the
 * SMS sender (the one function given a number) and the local stack.
 */
export function checkOrigination(sms: { originationNumber?: string | undefined }) {
  const Origination = z.object({ PREGON_SMS_ORIGINATION_NUMBER: Sms.Phone.optional() });
  parse(Origination, { PREGON_SMS_ORIGINATION_NUMBER: sms.originationNumber });
}

/** The email and SMS settings of a parsed ChannelEnv. */
export const channelSettings = (e: z.infer<typeof ChannelEnv>) => ({
  email: emailSettings(e),
  sms: smsSettings(e),
  reputation: reputationSettings(e),
});

export const pepper = z.string().min(32, "must have 32 characters or more");

const LambdaEnv = ChannelEnv.extend({
  /** The application role's connection (Resource.AppDatabase). */
  DATABASE_URL: z.url(),
  /** The owner's (Resource.Database): linked to the Migrator alone. */
  PREGON_DATABASE_OWNER_URL: z.url().optional(),
  /** Only the functions that issue or check codes are linked to it (startLambda checks). */
  PREGON_OTP_PEPPER: pepper.optional(),
  /** Overrides the rate read from SES (per sender instance). */
  PREGON_SES_MAX_SEND_RATE: z.coerce.number().positive().optional(),
  /** Sender instances at most (the event source mapping's maximum concurrency). */
  PREGON_EMAIL_SENDER_CONCURRENCY: z.coerce.number().int().positive().default(2),
  PREGON_SES_CONFIGURATION_SET: z.string().optional(),
  /** SNS platform applications for mobile push (infra/ makes them when credentials are set). */
  PREGON_PUSH_APNS_APPLICATION_ARN: z.string().startsWith("arn:").optional(),
  PREGON_PUSH_FCM_APPLICATION_ARN: z.string().startsWith("arn:").optional(),
  /** APNs development (sandbox) rather than production. */
  PREGON_PUSH_APNS_SANDBOX: z.enum(["true", "false"]).default("false"),
  /** The CloudFront origin serving the API reference's script (the http function's /docs). */
  PREGON_DOCS_ORIGIN: z
    .url({ protocol: /^https$/ })
    .refine((url) => new URL(url).origin === url, "must be an https origin, with no path")
    .optional(),
});

/** A Lambda's settings, read once per cold start: from its links on AWS, else from the environment. */
export function loadLambdaConfig(env: NodeJS.ProcessEnv = { ...linkedEnv(), ...process.env }) {
  const e = parse(LambdaEnv, env);
  return {
    databaseUrl: e.DATABASE_URL,
    databaseOwnerUrl: e.PREGON_DATABASE_OWNER_URL,
    ...channelSettings(e),
    publicUrl: e.PREGON_PUBLIC_URL,
    docsOrigin: e.PREGON_DOCS_ORIGIN,
    otpPepper: e.PREGON_OTP_PEPPER,
    sesMaxSendRate: e.PREGON_SES_MAX_SEND_RATE,
    emailSenderConcurrency: e.PREGON_EMAIL_SENDER_CONCURRENCY,
    sesConfigurationSet: e.PREGON_SES_CONFIGURATION_SET,
    push: {
      apns: e.PREGON_PUSH_APNS_APPLICATION_ARN,
      fcm: e.PREGON_PUSH_FCM_APPLICATION_ARN,
      apnsSandbox: e.PREGON_PUSH_APNS_SANDBOX === "true",
    },
  };
}

const Linked = z.object({ arn: z.string() });
const LinkedBucket = z.object({ name: z.string() });

/** The templates bucket the function is linked to. */
export function linkedTemplatesBucket(): string {
  return LinkedBucket.parse((Resource as unknown as Record<string, unknown>).Templates).name;
}

/** The topic ARNs the function is linked to (SST `Resource`, from `link: [...]` in infra/). */
export function linkedTopicArns() {
  const linked = Resource as unknown as Record<string, unknown>;
  const arn = (name: string) => Linked.parse(linked[name]).arn;
  return {
    email: arn("EmailTopic"),
    sms: arn("SmsTopic"),
    push: arn("PushTopic"),
    events: arn("EventsTopic"),
    webhooks: arn("WebhooksTopic"),
  };
}

/** The URL of a queue the function is linked to (the webhook sender hides its retries there). */
export function linkedQueueUrl(name: string): string {
  const linked = Resource as unknown as Record<string, unknown>;
  return z.object({ url: z.string() }).parse(linked[name]).url;
}

const LinkedDatabase = z.object({
  host: z.string(),
  port: z.coerce.number().int(),
  username: z.string(),
  password: z.string(),
  database: z.string(),
});
const LinkedSecret = z.object({ value: z.string() });
const loopback = ["localhost", "127.0.0.1", "::1"];

/**
 * A postgres.js URL for the linked database. RDS Proxy takes TLS only, with a publicly trusted
 * (ACM) certificate: verify-full. `sst dev` links the local stack's Postgres, on loopback: no TLS.
 */
export function databaseUrl(db: z.infer<typeof LinkedDatabase>): string {
  const host = db.host.includes(":") ? `[${db.host}]` : db.host;
  const credentials = `${encodeURIComponent(db.username)}:${encodeURIComponent(db.password)}`;
  const tls = loopback.includes(db.host) ? "" : "?sslmode=verify-full";
  return `postgres://${credentials}@${host}:${db.port}/${encodeURIComponent(db.database)}${tls}`;
}

/**
 * What the function is linked to (SST `Resource.AppDatabase`, `Resource.Database`,
 * `Resource.OtpPepper`) as the variables the configuration reads, so a Lambda and the local stack
 * go through the same checks. Every function links AppDatabase, the application role; only the
 * Migrator links Database, whose user is the owner (RDS's master user).
 */
export function linkedEnv(
  linked: Record<string, unknown> = Resource as unknown as Record<string, unknown>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if ("AppDatabase" in linked) {
    env.DATABASE_URL = databaseUrl(LinkedDatabase.parse(linked.AppDatabase));
  }
  if ("Database" in linked) {
    env.PREGON_DATABASE_OWNER_URL = databaseUrl(LinkedDatabase.parse(linked.Database));
  }
  if ("OtpPepper" in linked) env.PREGON_OTP_PEPPER = LinkedSecret.parse(linked.OtpPepper).value;
  return env;
}
