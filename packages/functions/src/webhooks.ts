import { SQSClient } from "@aws-sdk/client-sqs";
import { linkedQueueUrl } from "./config";
import { createWebhookSender } from "./handlers/webhooks";
import { lambdaHandler, startLambda } from "./lambda";
import { traced } from "./tracing";

startLambda({ outbox: true, webhooks: true });

/** The webhooks queue's Lambda: one attempt per message to its endpoint, retried by the queue. */
export const handler = lambdaHandler(
  createWebhookSender({
    sqs: traced(new SQSClient({})),
    queueUrl: linkedQueueUrl("WebhooksQueue"),
  }),
);
