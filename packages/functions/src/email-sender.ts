import { S3Client } from "@aws-sdk/client-s3";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { Database, Email, Otp, Outbox, snsPublisher, Template } from "@pregon/core";
import { linkedTemplatesBucket, linkedTopicArns, loadLambdaConfig } from "./config";
import { createEmailSender } from "./handlers/email-sender";

const config = loadLambdaConfig();
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));
Template.configure(Template.s3Store(new S3Client({}), linkedTemplatesBucket()));
Otp.configure({ pepper: config.otpPepper });
const ses = new SESv2Client({});
// The account's rate, shared by every sender instance.
const sendRate =
  config.sesMaxSendRate ?? (await Email.maxSendRate(ses)) / config.emailSenderConcurrency;

/** The email queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = createEmailSender({
  mailer: Email.sesMailer(ses, config.sesConfigurationSet),
  sendRate,
});
