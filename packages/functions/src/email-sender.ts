import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { Database, Email, Outbox, snsPublisher } from "@pregon/core";
import { linkedTopicArns, loadLambdaConfig } from "./config";
import { createEmailSender } from "./handlers/email-sender";

const config = loadLambdaConfig();
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));
const ses = new SESv2Client({});
// The account's rate, shared by every sender instance.
const sendRate =
  config.sesMaxSendRate ?? (await Email.maxSendRate(ses)) / config.emailSenderConcurrency;

/** The email queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = createEmailSender({
  mailer: Email.sesMailer(ses, config.sesConfigurationSet),
  sendRate,
});
