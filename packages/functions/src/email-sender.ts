import { SESv2Client } from "@aws-sdk/client-sesv2";
import * as Email from "@pregon/core/email";
import { createEmailSender } from "./handlers/sender";
import { lambdaHandler, startLambda } from "./lambda";
import { s3Templates } from "./templates";
import { traced } from "./tracing";

const config = startLambda({ outbox: true, templates: s3Templates(), otp: true, links: true });
const ses = traced(new SESv2Client({}));
// The account's rate, shared by every sender instance.
const sendRate =
  config.sesMaxSendRate ?? (await Email.maxSendRate(ses)) / config.emailSenderConcurrency;

/** The email queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = lambdaHandler(
  createEmailSender({ mailer: Email.sesMailer(ses, config.sesConfigurationSet), sendRate }),
);
