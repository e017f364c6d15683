import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { Delivery, Webhook } from "@pregon/core";
import type { QueueName } from "@pregon/pipelines";

export interface Parked {
  messageId: string;
  receiveCount: number;
  sentAt: string;
  /** Ids only, as every Pregón message. */
  body: string;
}

/** Looks at what a DLQ holds without taking it (each message is made visible again at once). */
export async function list(sqs: SQSClient, dlqUrl: string, max = 1000): Promise<Parked[]> {
  const seen = new Map<string, Parked>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const fresh = Messages.filter((message) => !seen.has(message.MessageId!));
    if (fresh.length === 0 || seen.size >= max) return [...seen.values()];
    for (const message of fresh) {
      seen.set(message.MessageId!, {
        messageId: message.MessageId!,
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
        sentAt: new Date(Number(message.Attributes?.SentTimestamp ?? 0)).toISOString(),
        body: message.Body ?? "",
      });
    }
  }
}

/**
 * Moves every message of the DLQ back to its queue. For the email queue, the deliveries that
 * failed only because their message ran out of receives are queued again first, so the redriven
 * message sends them; those that SES refused stay failed. A webhook message that ran out of
 * attempts is made pending again, for another round of them.
 */
export async function redrive(
  sqs: SQSClient,
  queue: QueueName,
  urls: { queueUrl: string; dlqUrl: string },
): Promise<{ moved: number; requeued: number }> {
  let moved = 0;
  let requeued = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls.dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return { moved, requeued };
    for (const message of Messages) {
      if (queue === "email") {
        const ids = (JSON.parse(message.Body ?? "{}") as { deliveryIds?: string[] }).deliveryIds;
        if (Array.isArray(ids)) requeued += await Delivery.requeueGaveUp(ids);
      }
      if (queue === "webhooks") {
        const body = Webhook.QueueMessage.safeParse(JSON.parse(message.Body ?? "{}"));
        if (body.success) requeued += await Webhook.reopen([body.data.messageId]);
      }
      await sqs.send(
        new SendMessageCommand({ QueueUrl: urls.queueUrl, MessageBody: message.Body! }),
      );
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: urls.dlqUrl, ReceiptHandle: message.ReceiptHandle! }),
      );
      moved++;
    }
  }
}
