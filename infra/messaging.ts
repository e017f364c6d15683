// SNS -> SQS (+ DLQ) pipelines, one per channel plus the events and feedback fan-outs
// (DESIGN.md §1), from the same list the local stack declares. Messages carry ids only.
//
// SST's SnsTopic.subscribeQueue is not used on purpose: in SST 4.17 it creates the subscription
// without raw message delivery, and writes its own aws.sqs.QueuePolicy allowing sns/s3/events
// SendMessage from ANY source. A queue has one policy, so a second, SourceArn-scoped QueuePolicy
// next to it would fight it on every deploy. Both are declared here instead.
import {
  maxReceiveCount,
  type Pipeline,
  pipelines,
  type TopicName,
  visibilityTimeoutSeconds,
} from "../packages/functions/src/pipelines";

/** 14 days, the SQS maximum: time to inspect and redrive. */
const dlqRetentionSeconds = 14 * 24 * 60 * 60;

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

function declare(pipeline: Pipeline) {
  const topic = new sst.aws.SnsTopic(`${pascal(pipeline.topic)}Topic`);
  const id = `${pascal(pipeline.queue)}Queue`;
  const dlq = new sst.aws.Queue(`${id}Dlq`, {
    transform: { queue: { messageRetentionSeconds: dlqRetentionSeconds } },
  });
  const queue = new sst.aws.Queue(id, {
    dlq: { queue: dlq.arn, retry: maxReceiveCount },
    visibilityTimeout: `${visibilityTimeoutSeconds} seconds`,
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
    { topic: topic.arn, protocol: "sqs", endpoint: queue.arn, rawMessageDelivery: true },
    // SNS cannot deliver to the queue before its policy exists.
    { dependsOn: [queuePolicy] },
  );

  return { topic, queue, dlq };
}

export const declared = pipelines.map((pipeline) => ({ pipeline, ...declare(pipeline) }));

/** The topics the API publishes to (linked to the http function). */
export const topics = declared.map(({ topic }) => topic);

export const topicArns = Object.fromEntries(
  declared.map(({ pipeline, topic }) => [pipeline.topic, topic.arn]),
) as Record<TopicName, $util.Output<string>>;
