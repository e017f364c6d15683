// Turns a function's settings (infra/settings.ts) into SST function arguments: runtime and
// bundling, its links and nothing else, its permissions, the VPC when it links the database (none
// under `sst dev`), the environment variables it names and the stage's (PREGON_STAGE, which its
// metrics carry), how long its logs are kept, and X-Ray tracing where the stage traces.
import { deployConfig, otpPepper } from "./config";
import { appDatabase, database } from "./database";
import { docsOrigin } from "./docs";
import { configurationSetArn, configurationSetName, identityArn } from "./email";
import { key } from "./encryption";
import { publishTargets, webhooksQueue } from "./messaging";
import { vpc } from "./network";
import { pushApplicationArns, pushResources } from "./push";
import {
  type EnvName,
  everyFunctionEnvironment,
  type FunctionName,
  type FunctionSetting,
  functions,
  type Link,
  linksDatabase,
  reservedConcurrency,
  runtime,
  smsRatePerInstance,
  type Target,
  tracingPermission,
  usesKey,
} from "./settings";
import { templates } from "./storage";

const linkable: Record<Link, unknown> = {
  AppDatabase: appDatabase,
  Database: database,
  OtpPepper: otpPepper,
  Templates: templates,
  WebhooksQueue: webhooksQueue,
  ...publishTargets,
};

const { sms, tracing } = deployConfig;
const environment: Record<EnvName, $util.Input<string> | undefined> = {
  PREGON_STAGE: $app.stage,
  // The functions load the tracer only then (packages/functions/src/tracing.ts).
  PREGON_TRACING: tracing ? "true" : undefined,
  // trpc-to-openapi regenerates the whole OpenAPI document on every REST request otherwise.
  NODE_ENV: "production",
  PREGON_EMAIL_FROM: deployConfig.email.from,
  PREGON_SMS_COUNTRIES: sms.countries,
  PREGON_EMAIL_SENDER_CONCURRENCY: String(functions.emailSender.trigger.maximumConcurrency),
  PREGON_SES_CONFIGURATION_SET: configurationSetName,
  PREGON_SMS_SENDER_ID: sms.senderId,
  PREGON_SMS_ORIGINATION_NUMBER: sms.originationNumber,
  PREGON_SMS_RATE: String(smsRatePerInstance(sms.accountRate)),
  PREGON_PUSH_APNS_APPLICATION_ARN: pushApplicationArns.apns,
  PREGON_PUSH_FCM_APPLICATION_ARN: pushApplicationArns.fcm,
  PREGON_PUSH_APNS_SANDBOX: String(deployConfig.push.apns?.sandbox ?? false),
  PREGON_DOCS_ORIGIN: docsOrigin,
};

/** The ARNs each target of infra/settings.ts stands for. */
const targets: Record<Target, $util.Input<string>[]> = {
  publishedTopics: Object.values(publishTargets).map((topic) => topic.arn),
  webhooksQueue: [webhooksQueue.arn],
  templates: [$interpolate`${templates.arn}/*`],
  emailIdentity: [identityArn, configurationSetArn],
  // None when no platform application is configured: nothing to allow.
  pushApplications: pushResources,
  phoneNumbers: ["*"],
  account: ["*"],
  xray: ["*"],
};

function permissions(setting: FunctionSetting): sst.aws.FunctionPermissionArgs[] {
  const statements: sst.aws.FunctionPermissionArgs[] = [];
  for (const { actions, on } of [...setting.permissions, ...(tracing ? [tracingPermission] : [])]) {
    if (targets[on].length) statements.push({ actions: [...actions], resources: targets[on] });
  }
  if (usesKey(setting)) {
    statements.push({ actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [key.arn] });
  }
  return statements;
}

/** The SST function arguments of one of infra/settings.ts's functions. */
export function functionArgs(name: FunctionName) {
  const setting: FunctionSetting = functions[name];
  const set = [...everyFunctionEnvironment, ...setting.environment].filter(
    (env) => environment[env] !== undefined,
  );
  const reserved = reservedConcurrency(setting, deployConfig.concurrency);
  return {
    ...runtime,
    handler: setting.handler,
    timeout: `${setting.timeoutSeconds} seconds`,
    memory: `${setting.memoryMb} MB`,
    link: setting.links.map((link) => linkable[link]),
    permissions: permissions(setting),
    environment: Object.fromEntries(set.map((env) => [env, environment[env]!])),
    logging: { retention: deployConfig.logRetention },
    ...(vpc && linksDatabase(setting) && { vpc }),
    // Only where the stage reserves concurrency: a new account's quota leaves none to reserve.
    ...(reserved !== undefined && { concurrency: { reserved } }),
    // Lambda's own retries of a failed asynchronous (scheduled) run.
    ...(setting.trigger.kind === "cron" && { retries: setting.trigger.retries }),
    ...(setting.copyFiles && { copyFiles: setting.copyFiles.map((copy) => ({ ...copy })) }),
    transform: {
      // SST's component has no tracing argument.
      function: (args: aws.lambda.FunctionArgs) => {
        if (tracing) args.tracingConfig = { mode: "Active" };
      },
      // SST lets the account's root assume every function's role too, for `sst dev`'s live
      // functions; a deployed stage has no such use, so only Lambda may.
      role: (args: aws.iam.RoleArgs) => {
        if (!$dev) {
          args.assumeRolePolicy = aws.iam.assumeRolePolicyForPrincipal({
            Service: "lambda.amazonaws.com",
          });
        }
      },
    },
    // No `nodejs.banner` with a createRequire shim: for ESM, SST 4.17's own esbuild
    // step already prepends `const require = topLevelCreateRequire(import.meta.url)`, so a second
    // `const require` would make the bundle a SyntaxError at load.
  } satisfies sst.aws.FunctionArgs;
}
