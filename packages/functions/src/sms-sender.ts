import { SNSClient } from "@aws-sdk/client-sns";
import { Sms } from "@pregon/core";
import { createSmsSender } from "./handlers/sender";
import { lambdaHandler, startLambda } from "./lambda";
import { traced } from "./tracing";

const config = startLambda({ outbox: true, templates: true, otp: true });

/** The SMS queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = lambdaHandler(
  createSmsSender({
    gateway: Sms.snsSmsGateway(traced(new SNSClient({})), config.sms),
    sendRate: config.sms.rate,
  }),
);
