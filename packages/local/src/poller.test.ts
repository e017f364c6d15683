import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../../../test/support/fixtures";
import { stack } from "../../../test/support/setup";
import { type Poller, type QueueHandler, startPoller } from "./poller";

const { aws } = stack;
const sqs = new SQSClient(aws);
const pollers: Poller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

/** A queue with a 1 s visibility timeout whose messages move to a DLQ after `maxReceiveCount`. */
async function queueWithDlq(maxReceiveCount: number) {
  const name = `poller-${randomUUID()}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: "1",
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes!.QueueArn,
          maxReceiveCount,
        }),
      },
    }),
  );
  const arn = Attributes!.QueueArn!.replace(/-dlq$/, "");
  return { url: main.QueueUrl!, arn, dlqUrl: dlq.QueueUrl! };
}

/** Records every invocation; fails the messages whose body is "fail". */
function recordingHandler(fail: (record: SQSRecord) => boolean) {
  const seen: Array<{ body: string; receiveCount: number; at: number }> = [];
  const handler: QueueHandler = async (event, context) => {
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    for (const record of event.Records) {
      seen.push({
        body: record.body,
        receiveCount: Number(record.attributes.ApproximateReceiveCount),
        at: Date.now(),
      });
    }
    return {
      batchItemFailures: event.Records.filter(fail).map((r) => ({ itemIdentifier: r.messageId })),
    };
  };
  return { seen, handler };
}

/** The DLQ's messages so far; they stay visible, so each call sees all of them. */
async function dlqBodies(dlqUrl: string) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 0,
    }),
  );
  return Messages.map((message) => message.Body);
}

describe("the local queue poller", () => {
  it("hands real SQSEvents to the handler and deletes what succeeded", async () => {
    const queue = await queueWithDlq(3);
    let event: Parameters<QueueHandler>[0] | undefined;
    pollers.push(
      startPoller(sqs, aws.region, {
        name: "test",
        queueUrl: queue.url,
        queueArn: queue.arn,
        handler: async (received) => {
          event = received;
        },
      }),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"ids":["d1"]}',
        MessageAttributes: { kind: { DataType: "String", StringValue: "email" } },
      }),
    );
    const record = (await until(async () => event))!.Records[0]!;
    expect(record).toMatchObject({
      body: '{"ids":["d1"]}',
      eventSource: "aws:sqs",
      eventSourceARN: queue.arn,
      awsRegion: aws.region,
      attributes: { ApproximateReceiveCount: "1", SenderId: expect.any(String) },
      messageAttributes: { kind: { dataType: "String", stringValue: "email" } },
    });
    expect(record.messageId).toMatch(/./);
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    // Deleted: nothing comes back after the visibility timeout.
    await new Promise((done) => setTimeout(done, 1500));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url }));
    expect(Messages).toEqual([]);
  });

  it("redelivers a reported failure after its visibility timeout, then parks it in the DLQ", async () => {
    const queue = await queueWithDlq(2);
    const { seen, handler } = recordingHandler((record) => record.body === "fail");
    pollers.push(
      startPoller(sqs, aws.region, {
        name: "t",
        queueUrl: queue.url,
        queueArn: queue.arn,
        handler,
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          { Id: "ok", MessageBody: "ok" },
          { Id: "fail", MessageBody: "fail" },
        ],
      }),
    );

    const parked = await until(async () => {
      const bodies = await dlqBodies(queue.dlqUrl);
      return bodies.length ? bodies : undefined;
    });
    expect(parked).toEqual(["fail"]);
    const failures = seen.filter((s) => s.body === "fail");
    expect(failures.map((s) => s.receiveCount)).toEqual([1, 2]);
    expect(failures[1]!.at - failures[0]!.at).toBeGreaterThanOrEqual(900);
    expect(seen.filter((s) => s.body === "ok")).toHaveLength(1);
  });

  it("retries the whole batch when the handler throws or times out", async () => {
    const queue = await queueWithDlq(2);
    const bodies: string[] = [];
    pollers.push(
      startPoller(sqs, aws.region, {
        name: "t",
        queueUrl: queue.url,
        queueArn: queue.arn,
        timeoutSeconds: 0.3,
        handler: async (event) => {
          const record = event.Records[0]!;
          bodies.push(`${record.body}#${record.attributes.ApproximateReceiveCount}`);
          if (record.body === "throw") throw new Error("boom");
          await new Promise((done) => setTimeout(done, 1000)); // past the 0.3 s timeout
        },
        batchSize: 1,
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "throw" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "slow" }));
    const parked = await until(async () => {
      const found = await dlqBodies(queue.dlqUrl);
      return found.length === 2 ? found : undefined;
    }, 15_000);
    expect(parked.sort()).toEqual(["slow", "throw"]);
    expect(bodies.sort()).toEqual(["slow#1", "slow#2", "throw#1", "throw#2"]);
  }, 30_000);
});
