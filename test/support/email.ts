import { randomBytes } from "node:crypto";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Email } from "@pregon/core";
import { toRecord } from "@pregon/local/poller";
import type { QueueName } from "@pregon/pipelines";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { pipelines, stack } from "./setup";

export const sqs = new SQSClient(stack.aws);
export const ses = new SESv2Client({ ...stack.aws, endpoint: stack.mailboxUrl });
export const mailer = Email.sesMailer(ses);

/** A domain no other test sends to, so the shared mailbox can be read per test. */
export const uniqueDomain = () => `d${randomBytes(5).toString("hex")}.example`;

export interface MailboxEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  /** The extra headers the message was sent with (SES v2 `Simple.Headers`). */
  headers?: Array<{ name: string; value: string }>;
}

/** The emails aws-ses-v2-local received for addresses of `domain`. */
export async function mailbox(domain: string): Promise<MailboxEmail[]> {
  const store = (await (await fetch(`${stack.mailboxUrl}/store`)).json()) as {
    emails: MailboxEmail[];
  };
  return store.emails.filter((email) =>
    email.destination.to.some((to) => to.includes(`@${domain}`)),
  );
}

/** Receives what is on this file's email queue now, as Lambda records. */
export async function receive(queue: QueueName = "email", wait = 1): Promise<SQSRecord[]> {
  const ref = pipelines.queues[queue];
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: ref.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: wait,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  return Messages.map((message) => toRecord(message, ref.arn, stack.aws.region));
}

/** Receives until `count` records arrived (or throws after `timeoutMs`). */
export async function receiveAll(count: number, queue: QueueName = "email", timeoutMs = 10_000) {
  const records: SQSRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count) {
    if (Date.now() > deadline) throw new Error(`received ${records.length} of ${count} messages`);
    records.push(...(await receive(queue)));
  }
  return records;
}

export async function acknowledge(records: SQSRecord[], queue: QueueName = "email") {
  for (const record of records) {
    await sqs.send(
      new DeleteMessageCommand({
        QueueUrl: pipelines.queues[queue].url,
        ReceiptHandle: record.receiptHandle,
      }),
    );
  }
}

/**
 * What `queue` holds now, ten messages at a time until it is empty, each batch deleted once the
 * loop's body is done with it. No long poll: fauxqs enqueues a publish before answering it, so an
 * empty answer after the publishing call returned means an empty queue.
 */
export async function* taken(queue: QueueName = "email"): AsyncGenerator<SQSRecord[]> {
  for (let records = await receive(queue, 0); records.length; records = await receive(queue, 0)) {
    yield records;
    await acknowledge(records, queue);
  }
}

export const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
