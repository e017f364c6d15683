import { SNSClient } from "@aws-sdk/client-sns";
import * as Sms from "@pregon/core/sms";
import * as Template from "@pregon/core/template";
import { checkOrigination } from "./config";
import { createSmsSender } from "./handlers/sender";
import { lambdaHandler, startLambda } from "./lambda";
import { s3Templates } from "./templates";
import { traced } from "./tracing";

const config = startLambda({ outbox: true, templates: s3Templates(), otp: true });
checkOrigination(config.sms);
// Every invocation renders (SNS, which delivers, is loaded at import).
await Template.loadEngines();

/** The SMS queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = lambdaHandler(
  createSmsSender({
    gateway: Sms.snsSmsGateway(traced(new SNSClient({})), config.sms),
    sendRate: config.sms.rate,
  }),
);
