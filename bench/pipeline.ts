// One section's queues and consumers, wired as main.ts wires them: its own topics and queues
// (prefixed, so nothing is left over from another section), the outbox publishing to them, and a
// poller per queue driving the real Lambda handlers.
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Email, Outbox, snsPublisher } from "@pregon/core";
import { createAuditHandler } from "@pregon/functions/handlers/audit";
import { createFeedbackHandler } from "@pregon/functions/handlers/feedback";
import {
  createEmailSender,
  createPushSender,
  createSmsSender,
} from "@pregon/functions/handlers/sender";
import { redrive } from "@pregon/local/dlq";
import { createInbox } from "@pregon/local/inbox";
import { type QueueHandler, startPoller } from "@pregon/local/poller";
import { type AwsEndpoint, declarePipelines, type Stack } from "@pregon/local/stack";
import { consumerTimeoutSeconds, type QueueName } from "@pregon/pipelines";
import { region } from "./settings";

/** The email sender's rate when a section does not say: `npm start`'s default. */
export const defaultSendRate = 200;

export interface PipelineOptions {
  prefix: string;
  /** SQS (fauxqs) endpoint; the stack's emulator unless a section brings its own. */
  aws?: AwsEndpoint;
  /** Seconds a received message stays hidden; the deployed 180 s unless a section says. */
  visibilityTimeoutSeconds?: number;
  /** Emails per second the email sender is paced at. */
  sendRate?: number;
  /** Builds the email queue's handler around the SES mailer (a fault run wraps it). */
  emailHandler?: (mailer: Email.Mailer, sendRate: number) => QueueHandler;
  /** false: declare and publish only, nobody consumes (the API overhead section). */
  consumers?: boolean;
}

export interface Pipeline {
  topics: Awaited<ReturnType<typeof declarePipelines>>["topics"];
  queues: Awaited<ReturnType<typeof declarePipelines>>["queues"];
  /** Messages on a queue, visible or in flight. */
  depth(queue: QueueName): Promise<number>;
  purge(): Promise<void>;
  /** Moves the email DLQ's messages back to the email queue, as `pregon dlq redrive` does. */
  redriveEmail(): Promise<{ moved: number; requeued: number }>;
  stop(): Promise<void>;
}

export async function startPipeline(stack: Stack, options: PipelineOptions): Promise<Pipeline> {
  const aws = options.aws ?? stack.aws;
  const { topics, queues } = await declarePipelines(aws, options.prefix, {
    ...(options.visibilityTimeoutSeconds && {
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    }),
  });
  Outbox.configure(snsPublisher(new SNSClient(aws), topics));
  const sqs = new SQSClient(aws);
  const mailer = Email.sesMailer(new SESv2Client({ ...aws, endpoint: stack.mailboxUrl }));
  const sendRate = options.sendRate ?? defaultSendRate;
  const inbox = createInbox();
  const handlers: Array<[QueueName, QueueHandler]> = [
    ["email", options.emailHandler?.(mailer, sendRate) ?? createEmailSender({ mailer, sendRate })],
    ["sms", createSmsSender({ gateway: inbox.smsGateway, sendRate: 20 })],
    ["push", createPushSender({ gateway: inbox.pushGateway })],
    ["feedback", createFeedbackHandler()],
    ["audit", createAuditHandler()],
  ];
  const pollers =
    options.consumers === false
      ? []
      : handlers.map(([queue, handler]) =>
          startPoller(sqs, region, {
            name: `${queue}-consumer`,
            queueUrl: queues[queue].url,
            queueArn: queues[queue].arn,
            handler,
            timeoutSeconds: consumerTimeoutSeconds,
          }),
        );
  return {
    topics,
    queues,
    async depth(queue) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queues[queue].url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    async purge() {
      for (const queue of Object.values(queues)) {
        await sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
      }
    },
    redriveEmail: () =>
      redrive(sqs, "email", { queueUrl: queues.email.url, dlqUrl: queues.email.dlqUrl }),
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()));
      sqs.destroy();
    },
  };
}
