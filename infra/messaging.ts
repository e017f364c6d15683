// SNS -> SQS (+ DLQ) pipelines, one per channel plus the events and feedback fan-outs, from the
// same list the local stack declares (packages/functions/src/pipelines.ts). Messages carry ids only.
//
// SST's SnsTopic.subscribeQueue is not used on purpose: in SST 4.17 it creates the subscription
// without raw message delivery, and writes its own aws.sqs.QueuePolicy allowing sns/s3/events
// SendMessage from ANY source. A queue has one policy, so a second, SourceArn-scoped QueuePolicy
// next to it would fight it on every deploy. Both are declared here instead.
//
// Every topic and queue is encrypted with the data key (infra/encryption.ts).
import type { TopicName } from "@pregon/pipelines";
import { key } from "./encryption";
import { encryption, type publishedTopics, queues } from "./settings";

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

function declare(pipeline: (typeof queues)[number]) {
  const topic = new sst.aws.SnsTopic(`${pascal(pipeline.topic)}Topic`, {
    transform: {
      topic: { kmsMasterKeyId: key.arn.apply((arn) => encryption.topic(arn).kmsMasterKeyId) },
    },
  });
  const id = `${pascal(pipeline.queue)}Queue`;
  const encrypted = key.arn.apply((arn) => encryption.queue(arn));
  const dlq = new sst.aws.Queue(`${id}Dlq`, {
    transform: {
      queue: {
        messageRetentionSeconds: pipeline.dlq.retentionSeconds,
        kmsMasterKeyId: encrypted.kmsMasterKeyId,
        kmsDataKeyReusePeriodSeconds: encrypted.kmsDataKeyReusePeriodSeconds,
      },
    },
  });
  const queue = new sst.aws.Queue(id, {
    dlq: { queue: dlq.arn, retry: pipeline.dlq.maxReceiveCount },
    visibilityTimeout: `${pipeline.visibilityTimeoutSeconds} seconds`,
    transform: {
      queue: {
        messageRetentionSeconds: pipeline.retentionSeconds,
        kmsMasterKeyId: encrypted.kmsMasterKeyId,
        kmsDataKeyReusePeriodSeconds: encrypted.kmsDataKeyReusePeriodSeconds,
      },
    },
  });

  // Only this topic may send to this queue.
  const queuePolicy = new aws.sqs.QueuePolicy(`${id}Policy`, {
    queueUrl: queue.url,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          effect: "Allow",
          actions: ["sqs:SendMessage"],
          resources: [queue.arn],
          principals: [{ type: "Service", identifiers: ["sns.amazonaws.com"] }],
          conditions: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [topic.arn] }],
        },
      ],
    }).json,
  });

  new aws.sns.TopicSubscription(
    `${id}Subscription`,
    {
      topic: topic.arn,
      protocol: "sqs",
      endpoint: queue.arn,
      rawMessageDelivery: pipeline.subscription.rawMessageDelivery,
    },
    // SNS cannot deliver to the queue before its policy exists.
    { dependsOn: [queuePolicy] },
  );

  return { topic, queue, dlq };
}

export const declared = queues.map((pipeline) => ({ pipeline, ...declare(pipeline) }));

const byTopic = (name: TopicName) => declared.find(({ pipeline }) => pipeline.topic === name)!;
export const byQueue = (name: (typeof queues)[number]["queue"]) =>
  declared.find(({ pipeline }) => pipeline.queue === name)!;

/** The topics the outbox publishes to, by component name (what functions link). */
export const publishTargets: Record<(typeof publishedTopics)[number], sst.aws.SnsTopic> = {
  EmailTopic: byTopic("email").topic,
  SmsTopic: byTopic("sms").topic,
  PushTopic: byTopic("push").topic,
  EventsTopic: byTopic("events").topic,
  WebhooksTopic: byTopic("webhooks").topic,
};
/** The webhook sender hides a failed message on it until its next attempt. */
export const webhooksQueue = byQueue("webhooks").queue;
export const feedbackTopic = byTopic("feedback").topic;

export const topicArns = Object.fromEntries(
  declared.map(({ pipeline, topic }) => [pipeline.topic, topic.arn]),
) as Record<TopicName, $util.Output<string>>;
