import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { Database, Otp, Outbox, snsPublisher, Template } from "@pregon/core";
import { linkedTemplatesBucket, linkedTopicArns, loadLambdaConfig } from "./config";

/**
 * A Lambda's cold start: its configuration, read once, and the parts of core it uses. Each function
 * asks only for what it is linked to in infra/ (the audit function has no topic, for one).
 */
export function startLambda(uses: { outbox?: boolean; templates?: boolean; otp?: boolean } = {}) {
  const config = loadLambdaConfig();
  // One connection per Lambda; RDS Proxy pools them and cannot keep prepared statements.
  Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
  if (uses.outbox) Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));
  if (uses.templates) {
    Template.configure(Template.s3Store(new S3Client({}), linkedTemplatesBucket()));
  }
  if (uses.otp) Otp.configure({ pepper: config.otpPepper });
  return config;
}
