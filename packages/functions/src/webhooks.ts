import { SQSClient } from "@aws-sdk/client-sqs";
import { linkedQueueUrl } from "./config";
import { createWebhookSender } from "./handlers/webhooks";
import { startLambda } from "./lambda";
import { traced, tracedHandler } from "./tracing";

startLambda({ outbox: true, webhooks: true });

/** The webhooks queue's Lambda: one attempt per message to its endpoint, retried by the queue. */
export const handler = tracedHandler(
  createWebhookSender({
    sqs: traced(new SQSClient({})),
    queueUrl: linkedQueueUrl("WebhooksQueue"),
  }),
);
