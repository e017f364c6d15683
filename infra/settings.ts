// The decisions behind infra/*.ts as plain data: no SST or Pulumi globals here, so
// test/infra-settings.test.ts can import this file and check how the numbers relate (connections
// against the database's budget, visibility against timeouts, what each function may touch).
// infra/*.ts build the resources from these values; change a number here, not there.

import { docsScriptHeaders, docsScriptPath } from "@pregon/api/docs-script";
import { defaultCountries, Phone } from "@pregon/core/phone";
import {
  consumerTimeoutSeconds,
  maxReceiveCount,
  pipelines,
  type QueueName,
  queueRetentionSeconds,
  receivesOf,
  visibilityTimeoutSeconds,
} from "@pregon/pipelines";

/**
 * Runtime and bundling of every function (SST runs esbuild with these; scripts/bundle.ts too).
 *
 * No `sourcemap` key, on purpose: left unset, SST 4.17 still writes a linked source map but keeps
 * it out of the zip (it uploads it to its bootstrap bucket beside the code). `sourcemap: true` (or
 * false) puts it inside the zip, where Node ignores it unless run with --enable-source-maps: four
 * times the upload for nothing. esbuild's target follows the runtime (ES2023 for nodejs22.x).
 */
export const runtime = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  nodejs: {
    format: "esm",
    minify: true,
    // esbuild's code splitting: what the code imports with `import()` goes into chunks of its own,
    // which the function reads and compiles only when it first asks for them (docs/deploy.md).
    splitting: true,
    // Leaves out code the Lambdas never run (co-body, yaml, zod's other languages).
    plugins: "./infra/esbuild-plugins.mjs",
    // No `esbuild.external`: the AWS SDK is bundled too (docs/deploy.md, "Bundles"). Loading the
    // runtime's copy from node_modules cost each cold start more than the bundled clients weigh.
  },
} as const;

/**
 * What every function's import loads (bundle.mjs and the chunks it imports, not those loaded on
 * demand) must stay under this (cold start: the import's first cost is compiling it);
 * test/bundles.test.ts measures it. 1,152 KiB while the AWS SDK was external; the http bundle
 * carries the S3, SNS and SESv2 clients it uses since (about 440 KiB).
 */
export const httpBundleLimitBytes = 1600 * 1024;
/**
 * And every zip, what Lambda downloads on a cold start, under this (the http one is the
 * largest). Split builds compress each chunk on its own, about 12 KiB more than one file: the price
 * of loading the S3 client and the X-Ray tracer only when first needed. The SDK's credential chain
 * narrowed to the environment's link (infra/esbuild-plugins.mjs) took about 50 KiB off every zip.
 */
export const zipLimitBytes = 512 * 1024;

// --- The API reference's script ----------------------------------------------------------------

/**
 * The script `/docs` loads (Scalar's browser build, 4.8 MB; 1.03 MB even with brotli, too large for
 * any function's zip), served by infra/docs.ts: one object in a private bucket (S3 Block Public
 * Access fully on), read by a CloudFront distribution of the stage's own through origin access
 * control, which compresses it for each browser. The http function gets the distribution's origin
 * (PREGON_DOCS_ORIGIN). docs/deploy.md, "The API reference", says why not API Gateway.
 */
export const docsScript = {
  /** The file uploaded, from the repository's root: the one the local server serves. */
  file: "node_modules/@scalar/api-reference/dist/browser/standalone.js",
  /** Its key: the path /docs loads, which names the pinned version (a new pin, a new object). */
  key: docsScriptPath.slice(1),
  contentType: docsScriptHeaders["content-type"],
  /** A year, immutable: what the local server sends; CloudFront and browsers keep it as long. */
  cacheControl: docsScriptHeaders["cache-control"],
  /**
   * CloudFront's managed CachingOptimized policy: gzip and brotli in the cache key (with the
   * behaviour's `compress`, CloudFront compresses the object for each), no cookie, header or query
   * string forwarded, TTL up to a year following the object's Cache-Control.
   */
  cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  /** Edge locations in North America and Europe (and Israel) only: the cheapest class. */
  priceClass: "PriceClass_100",
} as const;

// --- Database --------------------------------------------------------------------------------

/**
 * RDS Postgres behind RDS Proxy; its instance class and storage are the stage's profile's
 * (`profiles`). `maxConnections` is set explicitly in the parameter group (the default,
 * LEAST(DBInstanceClassMemory/9531392, 5000), is about 80 on a db.t4g.micro once RDS has taken its
 * share of the 1 GiB, about twice that on a db.t4g.small), so the budget below is exact rather than
 * estimated, and the same for both profiles.
 */
export const database = {
  version: "17",
  maxConnections: 80,
  /** superuser_reserved_connections (3) + rds.rds_superuser_reserved_connections (2). */
  reservedConnections: 5,
  /** The proxy's MaxConnectionsPercent: the rest stays for direct sessions (console, rdsadmin). */
  proxyMaxConnectionsPercent: 90,
  /** Pool size per Lambda instance (packages/functions/src/lambda.ts `poolSize`). */
  connectionsPerInstance: 1,
  /** `npm run pregon` through `sst shell` + `sst tunnel`, at most two at a time. */
  operatorConnections: 2,
} as const;

/** Database connections the proxy may open. */
export const proxyConnectionBudget = () =>
  Math.floor((database.maxConnections * database.proxyMaxConnectionsPercent) / 100);

// --- Functions -------------------------------------------------------------------------------

export const publishedTopics = [
  "EmailTopic",
  "SmsTopic",
  "PushTopic",
  "EventsTopic",
  "WebhooksTopic",
] as const;

/**
 * What a function can be linked to (names of the components in infra/). A link gives the function
 * names and credentials (`Resource.X`), never an IAM permission: infra/links.ts takes away the
 * `sns:*` and `s3:*` SST's topics and buckets would grant. `AppDatabase` is the application role;
 * `Database` the owner (RDS's master user), linked to the Migrator alone.
 */
export type Link =
  | "AppDatabase"
  | "Database"
  | "OtpPepper"
  | "Templates"
  /** The webhooks queue: its consumer hides a failed message for the retry schedule's wait. */
  | "WebhooksQueue"
  | (typeof publishedTopics)[number];

/**
 * What an IAM statement is on (infra/functions.ts turns each into ARNs):
 * - `publishedTopics`: the topics the outbox publishes to;
 * - `webhooksQueue`: the webhooks queue (its consumer sets a failed message's visibility);
 * - `templates`: the objects of the templates bucket;
 * - `emailIdentity`: the SES domain identity and this stage's configuration set (SES checks
 *   `ses:SendEmail` against both);
 * - `pushApplications`: the SNS platform applications and their endpoints (devices);
 * - `phoneNumbers`, `account` and `xray`: `*`, where AWS has no resource to name: a phone number
 *   has no ARN (so `sns:Publish` to one is allowed on `*`, which also covers any topic of the
 *   account), and neither `ses:GetAccount` nor X-Ray's writes support a resource-level permission.
 */
export type Target =
  | "publishedTopics"
  | "webhooksQueue"
  | "templates"
  | "emailIdentity"
  | "pushApplications"
  | "phoneNumbers"
  | "account"
  | "xray";

/** An IAM statement: the actions it allows, never a wildcard, on what. */
export interface Permission {
  actions: readonly string[];
  on: Target;
}

/** Targets that resolve to `*`, and why AWS leaves no narrower choice. */
export const anyResource: Partial<Record<Target, string>> = {
  phoneNumbers: "an SMS goes to a phone number, which has no ARN",
  account: "ses:GetAccount supports no resource-level permission",
  xray: "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permission",
};

/** What a traced function writes to X-Ray (AWS's AWSXRayDaemonWriteAccess, less the sampling reads). */
export const xrayActions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] as const;
/** Given to every function of a stage that traces (`tracing`), and to none otherwise. */
export const tracingPermission: Permission = { actions: xrayActions, on: "xray" };

/** Whether a function connects to the database (as either role): it runs in the VPC. */
export const linksDatabase = (setting: FunctionSetting) =>
  setting.links.includes("AppDatabase") || setting.links.includes("Database");

/** Environment variables a function receives (values from the deploy config, infra/config.ts). */
export type EnvName =
  | "PREGON_STAGE"
  | "PREGON_TRACING"
  | "NODE_ENV"
  | "PREGON_EMAIL_FROM"
  | "PREGON_SMS_COUNTRIES"
  | "PREGON_EMAIL_SENDER_CONCURRENCY"
  | "PREGON_SES_CONFIGURATION_SET"
  | "PREGON_SMS_SENDER_ID"
  | "PREGON_SMS_ORIGINATION_NUMBER"
  | "PREGON_SMS_RATE"
  | "PREGON_PUSH_APNS_APPLICATION_ARN"
  | "PREGON_PUSH_FCM_APPLICATION_ARN"
  | "PREGON_PUSH_APNS_SANDBOX"
  /** The origin of the distribution serving the API reference's script (`docsScript`). */
  | "PREGON_DOCS_ORIGIN";

/**
 * How a function is invoked, and so how many instances of it can run at once. `maxConcurrency` is
 * what a stage that reserves concurrency reserves (`PREGON_RESERVED_CONCURRENCY`); without a
 * reservation the trigger itself bounds the instances (see `maxInstances`).
 */
export type Trigger =
  | { kind: "api"; routes: readonly string[]; throttle: Throttle; maxConcurrency: number }
  | { kind: "queue"; queue: QueueName; batchSize: number; maximumConcurrency: number }
  /** Lambda's own retries of a failed scheduled run (0: the next run does the work). */
  | { kind: "cron"; everyMinutes: number; retries: number; maxConcurrency: number }
  /** Invoked by the deploy itself (infra/migrations.ts), once, and by nothing else. */
  | { kind: "deploy"; maxConcurrency: number };

/** What every function receives besides its own list (PREGON_TRACING only where the stage traces). */
export const everyFunctionEnvironment = [
  "PREGON_STAGE",
  "PREGON_TRACING",
] as const satisfies readonly EnvName[];

export interface FunctionSetting {
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  links: readonly Link[];
  permissions: readonly Permission[];
  environment: readonly EnvName[];
  trigger: Trigger;
  /** Files or folders copied next to the bundle. */
  copyFiles?: readonly { from: string; to: string }[];
}

/**
 * API Gateway's throttle of one route: a token bucket of `burstLimit` requests, refilled at
 * `rateLimitPerSecond`, shared by every client of the stage; API Gateway answers 429 beyond it.
 */
export interface Throttle {
  burstLimit: number;
  rateLimitPerSecond: number;
}

/**
 * How long a request is taken to hold its instance when counting what a throttle lets run at once:
 * about 4.5 times the p99 of `POST /v1/emails` on the local stack (221 ms, docs/benchmarks.md).
 */
export const requestSecondsAssumed = 1;

/**
 * The most instances one route's throttle lets run at once: its burst, plus what its rate lets
 * start while those run. Requests slower than assumed (a slow database) can raise it; RDS Proxy
 * then queues their connections instead of opening more than its share of max_connections.
 */
export const instancesPerRoute = (throttle: Throttle) =>
  throttle.burstLimit + Math.ceil(throttle.rateLimitPerSecond * requestSecondsAssumed);

/**
 * The OTP routes, served by the Otp function: REST under /v1/otp and one tRPC route per procedure
 * (API Gateway allows a greedy {proxy+} only as the last path segment, so `/trpc/otp.*` cannot be
 * one route). test/infra-settings.test.ts compares them with the router's OTP procedures.
 */
export const otpProcedures = ["send", "verify", "get", "cancel"] as const;
export const otpRoutes = [
  "POST /v1/otp",
  "ANY /v1/otp/{proxy+}",
  ...otpProcedures.map((name) => `ANY /trpc/otp.${name}`),
] as const;

const api = { timeoutSeconds: 29, memoryMb: 512 } as const; // API Gateway gives up at 30 s.
const consumer = { timeoutSeconds: consumerTimeoutSeconds, memoryMb: 512 } as const;
const apiEnv = ["NODE_ENV", "PREGON_EMAIL_FROM", "PREGON_SMS_COUNTRIES"] as const;
/** The outbox publishes delivery ids and facts (PublishBatch is authorised as sns:Publish). */
const publish = { actions: ["sns:Publish"], on: "publishedTopics" } as const;
/** Template versions: immutable objects, one per version, read by key. */
const readTemplates = { actions: ["s3:GetObject"], on: "templates" } as const;
const sender = (queue: QueueName, maximumConcurrency: number) =>
  ({ kind: "queue", queue, batchSize: 1, maximumConcurrency }) as const;

export const functions = {
  /** Every route but OTP's: the Hono app (tRPC, REST, /openapi.json, /docs, /health). */
  http: {
    handler: "packages/functions/src/http.handler",
    ...api,
    links: ["AppDatabase", "OtpPepper", "Templates", ...publishedTopics],
    // Writes a template's new version; previews and sends read them.
    permissions: [publish, { actions: ["s3:GetObject", "s3:PutObject"], on: "templates" }],
    environment: [...apiEnv, "PREGON_DOCS_ORIGIN"],
    // 10 at once and 10 a second: the 20 instances it reserves, at a second a request.
    trigger: {
      kind: "api",
      routes: ["$default"],
      throttle: { burstLimit: 10, rateLimitPerSecond: 10 },
      maxConcurrency: 20,
    },
  },
  /** The OTP routes, same app: no templates bucket, no SES, no SNS beyond its pipelines. */
  otp: {
    handler: "packages/functions/src/otp.handler",
    ...api,
    links: ["AppDatabase", "OtpPepper", ...publishedTopics],
    permissions: [publish],
    environment: apiEnv,
    // Tighter, per route: a send can cost an SMS, a check is a guess at a code. 2 at once and one a
    // second on each of the 6 routes: 3,600 codes an hour by REST and as many by tRPC, above the
    // default budget of one project (1,000 an hour); 18 instances at most, of the 20 it reserves.
    trigger: {
      kind: "api",
      routes: otpRoutes,
      throttle: { burstLimit: 2, rateLimitPerSecond: 1 },
      maxConcurrency: 20,
    },
  },
  // Senders take one message (up to 50 deliveries) per invocation: larger batches would return
  // unstarted records and spend their receives.
  emailSender: {
    handler: "packages/functions/src/email-sender.handler",
    ...consumer,
    links: ["AppDatabase", "OtpPepper", "Templates", ...publishedTopics],
    permissions: [
      publish,
      readTemplates,
      { actions: ["ses:SendEmail"], on: "emailIdentity" },
      // The account's sending rate, shared between the sender's instances.
      { actions: ["ses:GetAccount"], on: "account" },
    ],
    environment: [
      "PREGON_EMAIL_FROM",
      "PREGON_EMAIL_SENDER_CONCURRENCY",
      "PREGON_SES_CONFIGURATION_SET",
    ],
    // Together they share the account's SES sending rate.
    trigger: sender("email", 2),
  },
  smsSender: {
    handler: "packages/functions/src/sms-sender.handler",
    ...consumer,
    links: ["AppDatabase", "OtpPepper", "Templates", ...publishedTopics],
    permissions: [publish, readTemplates, { actions: ["sns:Publish"], on: "phoneNumbers" }],
    environment: ["PREGON_SMS_SENDER_ID", "PREGON_SMS_ORIGINATION_NUMBER", "PREGON_SMS_RATE"],
    trigger: sender("sms", 4),
  },
  pushSender: {
    handler: "packages/functions/src/push-sender.handler",
    ...consumer,
    // No one-time codes and no templates go by push.
    links: ["AppDatabase", ...publishedTopics],
    permissions: [
      publish,
      {
        actions: [
          "sns:CreatePlatformEndpoint",
          "sns:GetEndpointAttributes",
          "sns:SetEndpointAttributes",
          "sns:Publish",
        ],
        on: "pushApplications",
      },
    ],
    environment: [
      "PREGON_PUSH_APNS_APPLICATION_ARN",
      "PREGON_PUSH_FCM_APPLICATION_ARN",
      // An APNS_SANDBOX application takes its payload under that key, not APNS.
      "PREGON_PUSH_APNS_SANDBOX",
    ],
    trigger: sender("push", 4),
  },
  /**
   * Facts from the events topic -> the append-only audit log, and a webhook message per endpoint
   * that wants each (published to the webhooks topic).
   */
  audit: {
    handler: "packages/functions/src/audit.handler",
    ...consumer,
    links: ["AppDatabase", ...publishedTopics],
    permissions: [publish],
    environment: [],
    trigger: { kind: "queue", queue: "audit", batchSize: 10, maximumConcurrency: 2 },
  },
  /**
   * Webhook messages -> customers' endpoints, one attempt per receive. It decrypts the endpoints'
   * secrets with a key derived from the pepper, and reaches the internet through the NAT.
   */
  webhooks: {
    handler: "packages/functions/src/webhooks.handler",
    ...consumer,
    links: ["AppDatabase", "OtpPepper", "WebhooksQueue", ...publishedTopics],
    permissions: [publish, { actions: ["sqs:ChangeMessageVisibility"], on: "webhooksQueue" }],
    environment: [],
    // A batch's attempts run side by side, each within its 10 s deadline.
    trigger: { kind: "queue", queue: "webhooks", batchSize: 10, maximumConcurrency: 2 },
  },
  /** SES events (through the feedback topic) -> delivery statuses and the suppression list. */
  feedback: {
    handler: "packages/functions/src/feedback.handler",
    ...consumer,
    links: ["AppDatabase", ...publishedTopics],
    permissions: [publish],
    environment: [],
    trigger: { kind: "queue", queue: "feedback", batchSize: 10, maximumConcurrency: 2 },
  },
  /**
   * Requeues abandoned deliveries, republishes what a failed publish left, purges old rows. Its
   * schedule hands it `sweeperEvent`.
   */
  sweeper: {
    handler: "packages/functions/src/sweeper.handler",
    ...consumer,
    links: ["AppDatabase", ...publishedTopics],
    permissions: [publish],
    environment: [],
    trigger: { kind: "cron", everyMinutes: 1, retries: 0, maxConcurrency: 1 },
  },
  /** Applies the migrations on a deploy (infra/migrations.ts); a no-op when none is pending. */
  migrator: {
    handler: "packages/functions/src/migrate.handler",
    timeoutSeconds: 300,
    memoryMb: 512,
    // The owner, to migrate; the application role's name and password, to keep it in step.
    links: ["Database", "AppDatabase"],
    permissions: [],
    environment: [],
    trigger: { kind: "deploy", maxConcurrency: 1 },
    copyFiles: [{ from: "packages/core/migrations", to: "migrations" }],
  },
} as const satisfies Record<string, FunctionSetting>;

export type FunctionName = keyof typeof functions;

/** The event the sweeper's schedule (EventBridge Scheduler) invokes it with: nothing to read. */
export const sweeperEvent = {};

/** Whether a stage reserves concurrency (infra/config.ts reads it from PREGON_RESERVED_CONCURRENCY). */
export interface ConcurrencyMode {
  reservedConcurrency: boolean;
}

/** The reserved concurrency a function gets in a stage (undefined: none). */
export function reservedConcurrency(setting: FunctionSetting, mode: ConcurrencyMode) {
  // A queue consumer's event source mapping caps it in every stage, without taking from the
  // account's pool.
  if (!mode.reservedConcurrency || setting.trigger.kind === "queue") return undefined;
  return setting.trigger.maxConcurrency;
}

/** The most instances of a function that can run at once in a stage, and what holds them there. */
export function maxInstances(setting: FunctionSetting, mode: ConcurrencyMode): number {
  const { trigger } = setting;
  if (trigger.kind === "queue") return trigger.maximumConcurrency; // its event source mapping's
  if (mode.reservedConcurrency) return trigger.maxConcurrency; // Lambda throttles beyond it
  switch (trigger.kind) {
    case "api":
      return trigger.routes.length * instancesPerRoute(trigger.throttle);
    case "cron": {
      // Runs overlap only when one outlasts the schedule's period, or a retry meets the next run.
      const overlapping = Math.ceil(setting.timeoutSeconds / (trigger.everyMinutes * 60));
      return overlapping * (1 + trigger.retries);
    }
    case "deploy":
      return trigger.maxConcurrency;
  }
}

/** Connections every function together may hold at once in a stage, plus the operators'. */
export function connectionDemand(mode: ConcurrencyMode): number {
  const settings: FunctionSetting[] = Object.values(functions);
  const instances = settings
    .filter(linksDatabase)
    .reduce((sum, setting) => sum + maxInstances(setting, mode), 0);
  return instances * database.connectionsPerInstance + database.operatorConnections;
}

/** A function that reads or writes a KMS-encrypted topic, queue or bucket needs the key. */
export function usesKey(setting: FunctionSetting): boolean {
  return (
    setting.trigger.kind === "queue" ||
    setting.permissions.some((p) => p.on === "publishedTopics" || p.on === "templates")
  );
}

// --- Queues and topics -----------------------------------------------------------------------

/** 14 days, the SQS maximum: time to inspect and redrive. */
export const dlqRetentionSeconds = 14 * 24 * 60 * 60;
/** How long SQS reuses a data key before asking KMS again (fewer KMS requests, lower cost). */
export const kmsDataKeyReusePeriodSeconds = 3600;

export const queues = pipelines.map((pipeline) => ({
  ...pipeline,
  visibilityTimeoutSeconds,
  /** The sweeper republishes deliveries queued for longer than this (`strandedAfterMs`). */
  retentionSeconds: queueRetentionSeconds,
  dlq: { maxReceiveCount: receivesOf(pipeline.queue), retentionSeconds: dlqRetentionSeconds },
  subscription: { rawMessageDelivery: true, policy: "aws:SourceArn of its topic only" },
}));

/** Server-side encryption arguments, for the key infra/encryption.ts creates. */
export const encryption = {
  topic: (keyArn: string) => ({ kmsMasterKeyId: keyArn }),
  queue: (keyArn: string) => ({ kmsMasterKeyId: keyArn, kmsDataKeyReusePeriodSeconds }),
  bucket: (keyArn: string) => ({
    applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn },
    // One data key per bucket instead of one KMS request per object.
    bucketKeyEnabled: true,
  }),
};

/**
 * Who may use the key besides IAM principals of the account: SNS (to deliver to encrypted queues
 * and to encrypt topics), SES (to publish events to the encrypted feedback topic), CloudWatch
 * (to publish alarms to the encrypted alarm topic).
 */
export const keyServicePrincipals = [
  "sns.amazonaws.com",
  "ses.amazonaws.com",
  "cloudwatch.amazonaws.com",
] as const;
export const keyServiceActions = ["kms:GenerateDataKey*", "kms:Decrypt"] as const;

// --- Alarms ----------------------------------------------------------------------------------

/**
 * What an alarm watches, and so the dimensions of its metric (infra/alarms.ts resolves them): a
 * queue's DLQ or the queue itself, a function, the API, the database instance, Pregón's own metrics
 * of the stage (`service` and `stage`, packages/core/src/log), or the whole account (none).
 */
export type AlarmOn =
  | { dlq: QueueName }
  | { queue: QueueName }
  | { function: FunctionName }
  | { api: true }
  | { database: true }
  | { app: true }
  | { account: "ses" | "sms" };

/** A CloudWatch alarm. Every one notifies the stage's alarm topic when it fires and when it clears. */
export interface Alarm {
  /** Unique in the stage; CloudWatch's name is `pregon-<stage>-<name>`. */
  name: string;
  /** The name as docs/operations.md lists it, what to do included: `<queue>-dlq-not-empty`. */
  family: string;
  namespace: string;
  metric: string;
  statistic: "Sum" | "Maximum" | "Minimum" | "Average" | "p99";
  /**
   * Alarm on the percentage `metric` makes of `of` (same namespace and dimensions) instead, in
   * periods with at least `minimum` of `of`: a rate over two requests means nothing.
   */
  rate?: { of: string; minimum: number };
  comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  threshold: number;
  periodSeconds: number;
  /** Consecutive periods beyond the threshold before it fires. */
  evaluationPeriods: number;
  /**
   * A period without data: `notBreaching` where no data means nothing happened (no errors, no
   * requests), `ignore` (the state stays) where a metric is published only now and then.
   */
  treatMissingData: "notBreaching" | "ignore";
  on: AlarmOn;
}

export const alarmPeriodSeconds = 300;

/**
 * SES's own thresholds, as fractions: past `review` it puts the account under review, past
 * `pause` it pauses its sending. The alarms fire below the first.
 */
export const sesReputation = {
  review: { bounce: 0.05, complaint: 0.001 },
  pause: { bounce: 0.1, complaint: 0.005 },
} as const;

/** The numbers behind the alarms; docs/operations.md says why each and what to do. */
export const alarmThresholds = {
  /** API 5xx responses, percent of requests in 5 minutes that saw at least `apiMinimumRequests`. */
  apiErrorPercent: 5,
  apiMinimumRequests: 20,
  /** API p99 latency, ms, 3 periods running: a cold start or a slow request alone does not. */
  apiLatencyP99Ms: 3_000,
  apiLatencyPeriods: 3,
  /**
   * The oldest message of a queue, seconds: twice as long as a message failing on every receive
   * stays before its DLQ (5 receives x 180 s). Older, the consumers are stuck or far behind: SES's
   * sandbox rate (1 email/s) reaches it on a send to some 1,800 recipients.
   */
  oldestMessageSeconds: 2 * maxReceiveCount * visibilityTimeoutSeconds,
  /**
   * The webhooks queue keeps a message whose receiver fails for its whole retry schedule (about
   * 28 hours, then its DLQ): older than two days, its consumer is stuck.
   */
  webhooksOldestMessageSeconds: 2 * 24 * 60 * 60,
  /** The instance's CPU, percent, 3 periods running. */
  databaseCpuPercent: 80,
  databaseCpuPeriods: 3,
  /** Free storage under this fraction of the profile's storage. */
  databaseFreeStorageFraction: 0.1,
  /**
   * Connections over this fraction of max_connections (64 of 80): more than every function at its
   * most instances holds (58), less than RDS Proxy may open (72).
   */
  databaseConnectionsFraction: 0.8,
  /** SES reputation, fractions: below `sesReputation.review`, at most half of `pause`. */
  sesBounceRate: 0.04,
  sesComplaintRate: 0.0008,
  /** SMS spent this month, fraction of the limit the stage sets (PREGON_SMS_MONTHLY_SPEND_LIMIT). */
  smsSpendFraction: 0.8,
} as const;

/**
 * Where NAT runs on instances (`ec2`), two alarms per instance, each notifying the alarm topic and
 * acting: a failed system status check (the host) recovers the instance onto another host, a
 * failed instance status check (its OS) reboots it. Two failed minutes running, as AWS advises for
 * these actions.
 */
export const natAlarms = [
  { metric: "StatusCheckFailed_System", action: "recover" },
  { metric: "StatusCheckFailed_Instance", action: "reboot" },
] as const;
export const natAlarmPeriodSeconds = 60;
export const natAlarmEvaluationPeriods = 2;

/**
 * The alarms of a deployed stage (`sst dev` has none). Account-wide metrics are watched by the
 * stage that owns what they measure: SES reputation by the identity's stage, SMS spend by the
 * stage that sets the limit. The NAT instances' alarms come on top where NAT is `ec2`.
 */
export function alarmsFor(config: DeployConfig): Alarm[] {
  const t = alarmThresholds;
  const every = {
    comparison: "GreaterThanThreshold",
    periodSeconds: alarmPeriodSeconds,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
  } as const;
  const list: Alarm[] = [];
  for (const { queue } of queues) {
    list.push(
      {
        ...every,
        name: `${queue}-dlq-not-empty`,
        family: "<queue>-dlq-not-empty",
        namespace: "AWS/SQS",
        metric: "ApproximateNumberOfMessagesVisible",
        statistic: "Maximum",
        threshold: 0,
        on: { dlq: queue },
      },
      {
        ...every,
        name: `${queue}-oldest-message`,
        family: "<queue>-oldest-message",
        namespace: "AWS/SQS",
        metric: "ApproximateAgeOfOldestMessage",
        statistic: "Maximum",
        threshold: queue === "webhooks" ? t.webhooksOldestMessageSeconds : t.oldestMessageSeconds,
        on: { queue },
      },
    );
  }
  for (const name of Object.keys(functions) as FunctionName[]) {
    list.push({
      ...every,
      name: `${name}-errors`,
      family: "<function>-errors",
      namespace: "AWS/Lambda",
      metric: "Errors",
      statistic: "Sum",
      threshold: 0,
      on: { function: name },
    });
  }
  list.push(
    {
      ...every,
      name: "api-5xx-rate",
      family: "api-5xx-rate",
      namespace: "AWS/ApiGateway",
      metric: "5xx",
      statistic: "Sum",
      rate: { of: "Count", minimum: t.apiMinimumRequests },
      threshold: t.apiErrorPercent,
      on: { api: true },
    },
    {
      ...every,
      name: "api-latency-p99",
      family: "api-latency-p99",
      namespace: "AWS/ApiGateway",
      metric: "Latency",
      statistic: "p99",
      threshold: t.apiLatencyP99Ms,
      evaluationPeriods: t.apiLatencyPeriods,
      on: { api: true },
    },
    {
      ...every,
      name: "database-cpu",
      family: "database-cpu",
      namespace: "AWS/RDS",
      metric: "CPUUtilization",
      statistic: "Average",
      threshold: t.databaseCpuPercent,
      evaluationPeriods: t.databaseCpuPeriods,
      on: { database: true },
    },
    {
      ...every,
      name: "database-free-storage",
      family: "database-free-storage",
      namespace: "AWS/RDS",
      metric: "FreeStorageSpace",
      statistic: "Minimum",
      comparison: "LessThanThreshold",
      threshold: config.database.storageGb * 1024 ** 3 * t.databaseFreeStorageFraction,
      on: { database: true },
    },
    {
      ...every,
      name: "database-connections",
      family: "database-connections",
      namespace: "AWS/RDS",
      metric: "DatabaseConnections",
      statistic: "Maximum",
      threshold: database.maxConnections * t.databaseConnectionsFraction,
      on: { database: true },
    },
    {
      ...every,
      name: "database-unavailable",
      family: "database-unavailable",
      namespace: "Pregon",
      metric: "DatabaseUnavailable",
      statistic: "Sum",
      threshold: 0,
      on: { app: true },
    },
    // Pregón's reputation guard (packages/core/src/reputation), measured by the sweeper each
    // minute: a project's or the account's rates over the warning threshold, and a pause.
    {
      ...every,
      name: "reputation-warning",
      family: "reputation-warning",
      namespace: "Pregon",
      metric: "ReputationWarning",
      statistic: "Sum",
      threshold: 0,
      on: { app: true },
    },
    {
      ...every,
      name: "reputation-paused",
      family: "reputation-paused",
      namespace: "Pregon",
      metric: "ReputationPaused",
      statistic: "Sum",
      threshold: 0,
      on: { app: true },
    },
  );
  if (config.email.ownsIdentity) {
    // SES publishes reputation now and then, not every period: a gap keeps the state.
    const reputation = {
      ...every,
      namespace: "AWS/SES",
      statistic: "Maximum",
      periodSeconds: 3600,
      treatMissingData: "ignore",
      on: { account: "ses" },
    } as const;
    list.push(
      {
        ...reputation,
        name: "ses-bounce-rate",
        family: "ses-bounce-rate",
        metric: "Reputation.BounceRate",
        threshold: t.sesBounceRate,
      },
      {
        ...reputation,
        name: "ses-complaint-rate",
        family: "ses-complaint-rate",
        metric: "Reputation.ComplaintRate",
        threshold: t.sesComplaintRate,
      },
    );
  }
  const preferences = config.sms.preferences;
  if (preferences) {
    list.push({
      ...every,
      name: "sms-spend",
      family: "sms-spend",
      namespace: "AWS/SNS",
      metric: "SMSMonthToDateSpentUSD",
      statistic: "Maximum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: preferences.monthlySpendLimit * t.smsSpendFraction,
      periodSeconds: 3600,
      // Published while SMS go out: a quiet hour keeps the state until the month turns.
      treatMissingData: "ignore",
      on: { account: "sms" },
    });
  }
  return list;
}

// --- Deploy-time configuration ---------------------------------------------------------------

export const defaultSmsCountries = defaultCountries.join(",");

/** The stage sst.config.ts protects and retains: the default owner of what one stage must own. */
export const productionStage = "production";

/** How long CloudWatch keeps a log group's events: the names SST accepts, and their days. */
export const logRetentionDays = {
  "1 day": 1,
  "3 days": 3,
  "5 days": 5,
  "1 week": 7,
  "2 weeks": 14,
  "1 month": 30,
  "2 months": 60,
  "3 months": 90,
  "4 months": 120,
  "5 months": 150,
  "6 months": 180,
  "1 year": 365,
  "13 months": 400,
  "18 months": 545,
  "2 years": 731,
  "3 years": 1096,
  "5 years": 1827,
  "6 years": 2192,
  "7 years": 2557,
  "8 years": 2922,
  "9 years": 3288,
  "10 years": 3653,
  forever: 0,
} as const;
export type LogRetention = keyof typeof logRetentionDays;
export const logRetentions = Object.keys(logRetentionDays) as LogRetention[];

/**
 * What a stage is built with (`PREGON_PROFILE`; by default `production` for the production stage,
 * `dev` for every other): production to survive an AZ's failure and an operator's mistake, dev to
 * cost little. docs/deploy.md has the monthly cost of each.
 * - `database.instance`, `storageGb`: the RDS instance class and its gp3 storage. Production's
 *   db.t4g.small has the memory for the 80 connections the budget counts with room for Postgres's
 *   caches, and twice the micro's CPU credits;
 * - `database.multiAz`: a standby in the other AZ that RDS fails over to (about twice the
 *   instance's and the storage's price);
 * - `database.finalSnapshot`: a snapshot when the instance is deleted or replaced (SST's
 *   component skips it), and the automated backups kept after it;
 * - `database.deletionProtection`: RDS refuses to delete the instance until it is turned off;
 * - `nat`: `managed`, a NAT gateway per AZ (AWS keeps it up); `ec2`, an fck-nat instance per AZ,
 *   each the only way out of its AZ's private subnet (infra/network.ts, infra/alarms.ts);
 * - `reservedConcurrency`: the API, cron and deploy functions reserve their `maxConcurrency`;
 * - `logRetention`: how long the functions' and the API's logs are kept.
 * Tracing is off in both (PREGON_TRACING): X-Ray bills per trace.
 */
export interface Profile {
  database: {
    instance: string;
    storageGb: number;
    multiAz: boolean;
    finalSnapshot: boolean;
    deletionProtection: boolean;
  };
  nat: Nat;
  reservedConcurrency: boolean;
  logRetention: LogRetention;
}

export const profiles = {
  production: {
    database: {
      instance: "t4g.small",
      storageGb: 20,
      multiAz: true,
      finalSnapshot: true,
      deletionProtection: true,
    },
    nat: "managed",
    reservedConcurrency: true,
    logRetention: "3 months",
  },
  dev: {
    database: {
      instance: "t4g.micro",
      storageGb: 20,
      multiAz: false,
      finalSnapshot: false,
      deletionProtection: false,
    },
    nat: "ec2",
    reservedConcurrency: false,
    logRetention: "1 week",
  },
} as const satisfies Record<string, Profile>;
export type ProfileName = keyof typeof profiles;

export type Nat = "managed" | "ec2";

/** The event types SES reports to the feedback topic (through each stage's configuration set). */
export const feedbackEventTypes = [
  "send",
  "reject",
  "bounce",
  "complaint",
  "delivery",
  "delivery-delay",
] as const;

const domainName = /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/;

/**
 * The region a stage deploys to when PREGON_REGION does not say: where a stage without the
 * variable was deployed before it existed, if AWS_REGION was not set otherwise.
 */
export const defaultRegion = "us-east-1";
/** The stage's region, as sst.config.ts's app() pins the AWS provider to (checked with the rest). */
export const regionOf = (env: Record<string, string | undefined>) =>
  env.PREGON_REGION?.trim() || defaultRegion;
const regionName = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
/** An RDS instance's ARN, as a cross-region read replica names its source. */
const databaseArn = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:db:[a-z][a-z0-9-]{0,62}$/;
/** An S3 bucket's ARN (a bucket's ARN names no region or account). */
const bucketArn = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A KMS key's ARN (not an alias: IAM grants on keys, and an alias resolves in the caller's account). */
const kmsKeyArn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[\w-]+$/;

/**
 * Route 53's failover records of the API's domain: `primary` answers while its health check
 * passes, `secondary` only when the primary's fails. The check asks the stage's own API endpoint
 * (not the shared domain) for /health/ready every `intervalSeconds`; `failureThreshold` failures in a
 * row make it unhealthy, as many successes healthy again.
 */
export const apiFailover = {
  roles: ["primary", "secondary"] as const,
  healthPath: "/health/ready",
  intervalSeconds: 30,
  failureThreshold: 3,
};
export type FailoverRole = (typeof apiFailover.roles)[number];

/**
 * What a stage is deployed with, from environment variables: the shell's, then `.env.<stage>`,
 * then `.env` (SST loads both files, never over a variable already set). docs/deploy.md lists them.
 *
 * Some AWS settings exist once per account (SNS's SMS preferences) or per domain (the SES
 * identity): exactly one stage may own each, or two stages overwrite each other and the second
 * deploy, `sst dev` or `sst remove` breaks the first. Every other stage leaves them alone.
 */
export function readDeployConfig(env: Record<string, string | undefined>, stage: string) {
  const get = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const problems: string[] = [];
  const number = (name: string, fallback: number) => {
    const raw = get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) problems.push(`${name}: must be a positive number`);
    return value;
  };
  const flag = (name: string, fallback: boolean) => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw !== "true" && raw !== "false") problems.push(`${name}: "true" or "false"`);
    return raw === "true";
  };
  const stageName = (name: string, fallback?: string) => {
    const value = get(name) ?? fallback;
    if (value !== undefined && !/^[a-z0-9][a-z0-9-]*$/i.test(value)) {
      problems.push(`${name}: a stage name (letters, digits and hyphens)`);
    }
    return value;
  };

  const emailDomain = get("PREGON_EMAIL_DOMAIN")?.toLowerCase();
  if (!emailDomain) problems.push("PREGON_EMAIL_DOMAIN: the domain Pregón sends from is required");
  else if (!domainName.test(emailDomain)) {
    problems.push("PREGON_EMAIL_DOMAIN: must be a domain name (example.com)");
  }
  const emailFrom = get("PREGON_EMAIL_FROM") ?? `Pregón <no-reply@${emailDomain}>`;
  const fromDomain = /@([^\s@<>]+)>?$/.exec(emailFrom)?.[1]?.toLowerCase();
  if (emailDomain && fromDomain !== emailDomain && !fromDomain?.endsWith(`.${emailDomain}`)) {
    problems.push(`PREGON_EMAIL_FROM: must be an address of ${emailDomain}`);
  }
  const emailDns = get("PREGON_EMAIL_DNS") ?? "route53";
  if (emailDns !== "route53" && emailDns !== "manual") {
    problems.push('PREGON_EMAIL_DNS: "route53" (records created) or "manual" (you add them)');
  }
  const identityStage = stageName("PREGON_EMAIL_IDENTITY_STAGE", productionStage)!;
  const dmarc = get("PREGON_EMAIL_DMARC");
  if (dmarc && !/^v=DMARC1;/.test(dmarc)) {
    problems.push('PREGON_EMAIL_DMARC: a DMARC record, "v=DMARC1; p=none;" for example');
  } else if (dmarc && emailDns !== "route53") {
    problems.push("PREGON_EMAIL_DMARC: only with PREGON_EMAIL_DNS=route53 (else add it yourself)");
  }

  const smsCountries = (get("PREGON_SMS_COUNTRIES") ?? defaultSmsCountries)
    .split(",")
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
  if (!smsCountries.length || smsCountries.some((code) => !/^[A-Z]{2}$/.test(code))) {
    problems.push("PREGON_SMS_COUNTRIES: comma-separated ISO 3166-1 alpha-2 codes");
  }

  const senderId = get("PREGON_SMS_SENDER_ID");
  if (senderId && !/^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/.test(senderId)) {
    problems.push("PREGON_SMS_SENDER_ID: 1-11 letters and digits, one letter at least");
  }
  const originationNumber = get("PREGON_SMS_ORIGINATION_NUMBER");
  if (originationNumber && !Phone.safeParse(originationNumber).success) {
    problems.push(
      "PREGON_SMS_ORIGINATION_NUMBER: a valid phone number in E.164 form (+34600111222)",
    );
  }
  const smsPreferencesStage = stageName("PREGON_SMS_PREFERENCES_STAGE");
  const spendLimit = get("PREGON_SMS_MONTHLY_SPEND_LIMIT");
  const ownsSmsPreferences = smsPreferencesStage !== undefined && smsPreferencesStage === stage;
  if (ownsSmsPreferences && spendLimit === undefined) {
    problems.push(
      "PREGON_SMS_MONTHLY_SPEND_LIMIT: required in the stage that sets the account's SMS preferences (USD a month)",
    );
  }
  if (!smsPreferencesStage) {
    for (const name of ["PREGON_SMS_MONTHLY_SPEND_LIMIT", "PREGON_SMS_DELIVERY_STATUS_LOGS"]) {
      if (get(name) !== undefined) {
        problems.push(`${name}: set only by PREGON_SMS_PREFERENCES_STAGE's stage; name one`);
      }
    }
  }
  const smsPreferences =
    ownsSmsPreferences && spendLimit !== undefined
      ? {
          monthlySpendLimit: number("PREGON_SMS_MONTHLY_SPEND_LIMIT", 0),
          deliveryStatusLogs: flag("PREGON_SMS_DELIVERY_STATUS_LOGS", false),
        }
      : undefined;

  const profileName = get("PREGON_PROFILE") ?? (stage === productionStage ? "production" : "dev");
  if (!(profileName in profiles)) problems.push('PREGON_PROFILE: "production" or "dev"');
  const profile = profiles[profileName as ProfileName] ?? profiles.dev;
  const nat = get("PREGON_NAT") ?? profile.nat;
  if (nat !== "managed" && nat !== "ec2") {
    problems.push(
      'PREGON_NAT: "managed" (a NAT gateway per AZ) or "ec2" (an fck-nat instance per AZ)',
    );
  }
  const corsOrigins = (get("PREGON_CORS_ORIGINS") ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(origin)) {
      problems.push(
        `PREGON_CORS_ORIGINS: "${origin}" is not an origin (https://console.acme.example)`,
      );
    }
  }

  const logRetention = get("PREGON_LOG_RETENTION") ?? profile.logRetention;
  if (!(logRetention in logRetentionDays)) {
    problems.push(`PREGON_LOG_RETENTION: one of ${logRetentions.join(", ")}`);
  }

  const apiDomainName = get("PREGON_API_DOMAIN")?.toLowerCase();
  const apiCert = get("PREGON_API_DOMAIN_CERT");
  if (apiDomainName && !domainName.test(apiDomainName)) {
    problems.push("PREGON_API_DOMAIN: must be a domain name (api.example.com)");
  }
  if (apiCert && !apiDomainName)
    problems.push("PREGON_API_DOMAIN_CERT: only with PREGON_API_DOMAIN");
  else if (apiCert && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(apiCert)) {
    problems.push("PREGON_API_DOMAIN_CERT: an ACM certificate ARN (arn:aws:acm:…)");
  }

  const region = regionOf({ PREGON_REGION: get("PREGON_REGION") });
  if (!regionName.test(region)) problems.push("PREGON_REGION: an AWS region (eu-west-1)");
  const replicaOf = get("PREGON_REPLICA_OF");
  const sourceRegion = replicaOf ? databaseArn.exec(replicaOf)?.[1] : undefined;
  if (replicaOf && !sourceRegion) {
    problems.push(
      "PREGON_REPLICA_OF: the primary database instance's ARN (arn:aws:rds:REGION:ACCOUNT:db:NAME)",
    );
  } else if (replicaOf && sourceRegion === region) {
    problems.push(
      `PREGON_REPLICA_OF: the primary is in ${region}, this stage's region; a passive stage runs in another (PREGON_REGION)`,
    );
  }
  const replicaBucket = get("PREGON_TEMPLATES_REPLICA_BUCKET");
  const replicaKey = get("PREGON_TEMPLATES_REPLICA_KEY");
  const replicaKeyRegion = replicaKey ? kmsKeyArn.exec(replicaKey)?.[1] : undefined;
  if (!replicaBucket !== !replicaKey) {
    problems.push(
      "PREGON_TEMPLATES_REPLICA_BUCKET, PREGON_TEMPLATES_REPLICA_KEY: both (the passive stage's templates bucket and data key) or none",
    );
  } else if (replicaBucket && replicaOf) {
    problems.push(
      "PREGON_TEMPLATES_REPLICA_BUCKET: set on the primary; a passive stage (PREGON_REPLICA_OF) receives the replicas",
    );
  }
  if (replicaBucket && !bucketArn.test(replicaBucket)) {
    problems.push(
      "PREGON_TEMPLATES_REPLICA_BUCKET: the passive stage's templates bucket ARN (arn:aws:s3:::NAME)",
    );
  }
  if (replicaKey && !replicaKeyRegion) {
    problems.push(
      "PREGON_TEMPLATES_REPLICA_KEY: the passive stage's data key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)",
    );
  } else if (replicaKey && replicaKeyRegion === region) {
    problems.push(
      `PREGON_TEMPLATES_REPLICA_KEY: the key is in ${region}, this stage's region; the passive stage's is in another`,
    );
  }
  const failover = get("PREGON_API_FAILOVER");
  if (failover && !apiFailover.roles.includes(failover as FailoverRole)) {
    problems.push('PREGON_API_FAILOVER: "primary" or "secondary"');
  } else if (failover && (!apiDomainName || apiCert)) {
    problems.push(
      "PREGON_API_FAILOVER: needs PREGON_API_DOMAIN with its zone in Route 53 (no PREGON_API_DOMAIN_CERT)",
    );
  }

  const apnsTeamId = get("PREGON_PUSH_APNS_TEAM_ID");
  const apnsKeyId = get("PREGON_PUSH_APNS_KEY_ID");
  const apnsBundleId = get("PREGON_PUSH_APNS_BUNDLE_ID");
  const apnsSet = [apnsTeamId, apnsKeyId, apnsBundleId].filter(Boolean).length;
  if (apnsSet !== 0 && apnsSet !== 3) {
    problems.push(
      "PREGON_PUSH_APNS_TEAM_ID, PREGON_PUSH_APNS_KEY_ID, PREGON_PUSH_APNS_BUNDLE_ID: all or none",
    );
  }

  const config = {
    stage,
    email: {
      domain: emailDomain ?? "",
      from: emailFrom,
      dns: emailDns as "route53" | "manual",
      /** The stage that creates the SES identity (and its DNS records); the others reference it. */
      identityStage,
      ownsIdentity: identityStage === stage,
      /** A DMARC record the owning stage writes at _dmarc.DOMAIN; none unless asked. */
      dmarc: identityStage === stage ? dmarc : undefined,
    },
    sms: {
      countries: smsCountries.join(","),
      senderId,
      originationNumber,
      /** Messages per second for the whole account (SNS's default SMS quota is 20). */
      accountRate: number("PREGON_SMS_RATE", 20),
      /** The stage that sets the account's SMS preferences (none unless named). */
      preferencesStage: smsPreferencesStage,
      /** Set in that stage only; spend limit in USD a month. */
      preferences: smsPreferences,
    },
    push: {
      apns: apnsSet
        ? {
            teamId: apnsTeamId!,
            keyId: apnsKeyId!,
            bundleId: apnsBundleId!,
            sandbox: get("PREGON_PUSH_APNS_SANDBOX") === "true",
          }
        : undefined,
      fcm: get("PREGON_PUSH_FCM") === "true",
    },
    /**
     * Reserve each API, cron and deploy function's `maxConcurrency` (production by default). A new
     * account's Lambda quota (10 concurrent executions) leaves nothing to reserve.
     */
    concurrency: {
      reservedConcurrency: flag("PREGON_RESERVED_CONCURRENCY", profile.reservedConcurrency),
    } satisfies ConcurrencyMode,
    /** The profile the stage is built with (PREGON_PROFILE). */
    profile: profileName as ProfileName,
    /** Instance class, storage, Multi-AZ, final snapshot and deletion protection: the profile's. */
    database: profile.database as Profile["database"],
    nat: nat as Nat,
    logRetention: logRetention as LogRetention,
    /** X-Ray tracing of every function (PREGON_TRACING; off by default: X-Ray bills per trace). */
    tracing: flag("PREGON_TRACING", false),
    /** The API's own domain (PREGON_API_DOMAIN), and its ACM certificate where DNS is not Route 53. */
    apiDomain: apiDomainName
      ? { name: apiDomainName, cert: apiCert, failover: failover as FailoverRole | undefined }
      : undefined,
    /** The AWS region every resource of the stage is made in (sst.config.ts pins the provider to it). */
    region,
    /**
     * Passive (PREGON_REPLICA_OF, the primary's database instance ARN): the database is a
     * cross-region read replica of it, and the stage sends nothing (its queue consumers' event
     * source mappings are disabled, the sweeper has no schedule, no migration runs) until a deploy
     * without the variable promotes it. undefined: the stage is active.
     */
    passive: replicaOf ? { replicaOf } : undefined,
    /**
     * Where the templates bucket replicates to (PREGON_TEMPLATES_REPLICA_BUCKET and _KEY, on the
     * primary of a failover pair): the passive stage's bucket, its data key and the key's region.
     * undefined: no replication.
     */
    templatesReplica:
      replicaBucket && replicaKeyRegion && !replicaOf
        ? { bucketArn: replicaBucket, keyArn: replicaKey!, region: replicaKeyRegion }
        : undefined,
    /** Browser origins the API answers CORS requests from; none: CORS off. */
    corsOrigins,
    alarmEmail: get("PREGON_ALARM_EMAIL"),
    /** The local stack's Postgres port (`sst dev` links it): PREGON_PG_PORT, as for `npm start`. */
    localPgPort: number("PREGON_PG_PORT", 54320),
  };
  return { config, problems };
}
export type DeployConfig = ReturnType<typeof readDeployConfig>["config"];

/**
 * PREGON_SMS_RATE as each sms sender instance reads it (per instance): the account's rate shared by
 * the most instances the queue's event source mapping runs.
 */
export const smsRatePerInstance = (accountRate: number) =>
  accountRate / functions.smsSender.trigger.maximumConcurrency;
