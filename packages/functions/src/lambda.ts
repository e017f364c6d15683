import * as Log from "@pregon/core/log";
import type * as Template from "@pregon/core/template";
import type { Context } from "aws-lambda";
import { loadLambdaConfig } from "./config";
import { snsTopics } from "./publisher";
import { start } from "./start";
import { tracedHandler } from "./tracing";

/**
 * Connections per Lambda instance. RDS Proxy pools them; infra/settings.ts counts every function's
 * instances against the database's connections with this number.
 */
export const poolSize = 1;

/**
 * A Lambda's cold start: its configuration, read once, and the parts of core it uses. Each function
 * asks only for what it is linked to in infra/ (the audit function has no topic, for one).
 */
export function startLambda(
  uses: {
    outbox?: boolean;
    /**
     * The templates bucket's store (`s3Templates()`), made by the entries that render stored
     * templates, so the others' bundles carry no S3 client.
     */
    templates?: Template.Store;
    otp?: boolean;
    /** Manages or delivers webhooks (their secrets are encrypted with a key from the pepper). */
    webhooks?: boolean;
    /** Makes unsubscribe links (the email sender): needs PREGON_PUBLIC_URL. */
    links?: boolean;
    /** How long a query may go unanswered (Database's default: a few seconds). */
    queryTimeoutMs?: number;
  } = {},
) {
  const config = loadLambdaConfig();
  if (uses.links && !config.publicUrl) {
    throw new Error("Invalid configuration:\n  PREGON_PUBLIC_URL: not set");
  }
  if ((uses.otp || uses.webhooks) && !config.otpPepper) {
    throw new Error("Invalid configuration:\n  PREGON_OTP_PEPPER: not linked (OtpPepper) nor set");
  }
  start({
    // RDS Proxy cannot keep prepared statements across the transactions it multiplexes.
    database: {
      url: config.databaseUrl,
      max: poolSize,
      prepare: false,
      ...(uses.queryTimeoutMs && { queryTimeoutMs: uses.queryTimeoutMs }),
    },
    ...(uses.outbox && {
      publisher: snsTopics(),
    }),
    ...(uses.templates && { templates: uses.templates }),
    ...(uses.otp && { otpPepper: config.otpPepper }),
    ...(uses.webhooks && { webhooks: { encryptionSecret: config.otpPepper! } }),
    reputation: config.reputation,
    ...(uses.links && { publicUrl: config.publicUrl }),
  });
  return config;
}

/**
 * A function's handler as Lambda invokes it: each invocation's log lines carry its context
 * (function name and version, request id, and whether it was the instance's cold start), and its
 * trace is recorded where the stage traces.
 */
export function lambdaHandler<E, R>(
  handler: (event: E, context?: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return tracedHandler(async (event: E, context?: Context) => {
    if (context) Log.logger.addContext(context);
    return handler(event, context);
  });
}
