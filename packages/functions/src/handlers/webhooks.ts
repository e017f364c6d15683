import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import * as Actor from "@pregon/core/actor";
import * as Log from "@pregon/core/log";
import * as Webhook from "@pregon/core/webhook";
import { webhookAttempts } from "@pregon/pipelines";
import type { SQSRecord } from "aws-lambda";
import { parseBody, queueConsumer, ReceiveAgain } from "./sqs";

/** SQS hides a message for 12 hours at most. */
const maxVisibilitySeconds = 12 * 60 * 60;

/**
 * The webhooks queue's consumer: each record is one message (a fact for one endpoint), and each
 * receive one attempt. A failed attempt leaves the message hidden for the retry schedule's wait, so
 * the queue's receive count is the attempt number and its DLQ takes what ran out of attempts.
 */
export function createWebhookSender(options: { sqs: SQSClient; queueUrl: string }) {
  const deliver = async (record: SQSRecord): Promise<boolean> => {
    const body = parseBody(Webhook.QueueMessage, record.body);
    if (!body) {
      Log.logger.warn("webhook message not understood, dropped", { messageId: record.messageId });
      return true;
    }
    const attempt = Number(record.attributes.ApproximateReceiveCount);
    const final = attempt >= webhookAttempts;
    const outcome = await Actor.provide({ type: "system", reason: "webhooks" }, () =>
      Webhook.attempt(body.messageId, { attempt, final }),
    );
    if (outcome.done) return true;
    await options.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: options.queueUrl,
        ReceiptHandle: record.receiptHandle,
        // After the last attempt: at once, on to the DLQ.
        VisibilityTimeout: final ? 0 : Math.min(outcome.retryAfterSeconds, maxVisibilitySeconds),
      }),
    );
    return false;
  };
  // Receivers answer slowly or not at all: a batch's attempts run side by side.
  return queueConsumer(
    async (record) => {
      let delivered: boolean;
      try {
        delivered = await deliver(record);
      } catch (error) {
        Log.logger.error("webhook attempt failed", { messageId: record.messageId, error });
        throw error;
      }
      if (!delivered) throw new ReceiveAgain("webhook message not delivered yet");
    },
    { parallel: true },
  );
}
