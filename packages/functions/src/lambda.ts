import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  Database,
  Otp,
  Outbox,
  Preference,
  Reputation,
  snsPublisher,
  Template,
} from "@pregon/core";
import { linkedTemplatesBucket, linkedTopicArns, loadLambdaConfig } from "./config";
import { traced } from "./tracing";

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
    templates?: boolean;
    otp?: boolean;
    /** Makes unsubscribe links (the email sender): needs PREGON_PUBLIC_URL. */
    links?: boolean;
    /** How long a query may go unanswered (Database's default: a few seconds). */
    queryTimeoutMs?: number;
  } = {},
) {
  const config = loadLambdaConfig();
  // RDS Proxy cannot keep prepared statements across the transactions it multiplexes.
  Database.configure({
    url: config.databaseUrl,
    max: poolSize,
    prepare: false,
    ...(uses.queryTimeoutMs && { queryTimeoutMs: uses.queryTimeoutMs }),
  });
  Reputation.configure(config.reputation);
  if (uses.outbox) Outbox.configure(snsPublisher(traced(new SNSClient({})), linkedTopicArns()));
  if (uses.templates) {
    Template.configure(Template.s3Store(traced(new S3Client({})), linkedTemplatesBucket()));
  }
  if (uses.otp) {
    if (!config.otpPepper) {
      throw new Error(
        "Invalid configuration:\n  PREGON_OTP_PEPPER: not linked (OtpPepper) nor set",
      );
    }
    Otp.configure({ pepper: config.otpPepper });
  }
  if (uses.links) {
    if (!config.publicUrl) {
      throw new Error("Invalid configuration:\n  PREGON_PUBLIC_URL: not set");
    }
    Preference.configure({ publicUrl: config.publicUrl });
  }
  return config;
}
