import { SESv2Client } from "@aws-sdk/client-sesv2";
import * as Email from "@pregon/core/email";
import * as Template from "@pregon/core/template";
import { createEmailSender } from "./handlers/sender";
import { lambdaHandler, startLambda } from "./lambda";
// Every invocation records facts: the SNS client is loaded at import.
import "./publisher-sns";
import { s3Templates } from "./templates";
import { traced } from "./tracing";

const config = startLambda({ outbox: true, templates: s3Templates(), otp: true, links: true });
const ses = traced(new SESv2Client({}));
// Every invocation renders: LiquidJS is loaded at the start too, not by the first invocation.
await Template.loadEngines();
// The account's rate, shared by every sender instance.
const sendRate =
  config.sesMaxSendRate ?? (await Email.maxSendRate(ses)) / config.emailSenderConcurrency;

/** The email queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = lambdaHandler(
  createEmailSender({ mailer: Email.sesMailer(ses, config.sesConfigurationSet), sendRate }),
);
