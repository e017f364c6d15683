import { SNSClient } from "@aws-sdk/client-sns";
import { Push } from "@pregon/core";
import { createPushSender } from "./handlers/sender";
import { startLambda } from "./lambda";
import { traced, tracedHandler } from "./tracing";

const config = startLambda({ outbox: true });

/** The push queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = tracedHandler(
  createPushSender({ gateway: Push.snsPushGateway(traced(new SNSClient({})), config.push) }),
);
