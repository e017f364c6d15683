import { randomUUID } from "node:crypto";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { Log } from "@pregon/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

/** A Lambda SQS consumer: the same function AWS invokes through an event source mapping. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing, as on Lambda.
export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface Consumer {
  name: string;
  queueUrl: string;
  queueArn: string;
  handler: QueueHandler;
  /** Messages per invocation (the event source mapping's BatchSize, at most 10 here). */
  batchSize?: number;
  /** The function's timeout: an invocation that runs longer counts as failed. */
  timeoutSeconds?: number;
}

export interface Poller {
  stop(): Promise<void>;
}

/** An SQS message as Lambda hands it over in an SQSEvent record. */
export function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? "",
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? "String",
          ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function lambdaContext(name: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Runs the handler; resolves to the ids of the messages to leave on the queue. */
async function invoke(consumer: Consumer, records: SQSRecord[]): Promise<Set<string>> {
  const timeoutMs = (consumer.timeoutSeconds ?? 30) * 1000;
  const context = lambdaContext(consumer.name, Date.now() + timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    const response = await Promise.race([
      consumer.handler({ Records: records }, context),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
  } catch (error) {
    // Like Lambda: a failed invocation leaves the whole batch for another receive.
    Log.logger.error("consumer invocation failed", { consumer: consumer.name, error });
    return new Set(records.map((record) => record.messageId));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls a queue and invokes its handler with real SQSEvents, as an event source mapping with
 * ReportBatchItemFailures does: succeeded messages are deleted, failed ones stay hidden until their
 * visibility timeout ends and move to the DLQ after the queue's maxReceiveCount (SQS does both).
 */
export function startPoller(sqs: SQSClient, region: string, consumer: Consumer): Poller {
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: consumer.queueUrl,
            MaxNumberOfMessages: consumer.batchSize ?? 10,
            WaitTimeSeconds: 20,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: abort.signal },
        );
        if (Messages.length === 0) continue;
        const records = Messages.map((message) => toRecord(message, consumer.queueArn, region));
        const failed = await invoke(consumer, records);
        const done = records.filter((record) => !failed.has(record.messageId));
        if (done.length === 0) continue;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: consumer.queueUrl,
            Entries: done.map((record, i) => ({
              Id: String(i),
              ReceiptHandle: record.receiptHandle,
            })),
          }),
        );
      } catch (error) {
        if (abort.signal.aborted) break;
        Log.logger.error("queue poll failed", { consumer: consumer.name, error });
        await new Promise((done) => setTimeout(done, 1000));
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
