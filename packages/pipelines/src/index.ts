/**
 * The SNS topic -> SQS queue (+ DLQ) pairs of Pregón. The local stack creates these; infra/ declares
 * the same ones on AWS. Messages carry ids only, delivered raw (no SNS envelope).
 */
export const pipelines = [
  { topic: "email", queue: "email" },
  { topic: "sms", queue: "sms" },
  { topic: "push", queue: "push" },
  { topic: "events", queue: "audit" },
  { topic: "feedback", queue: "feedback" },
  { topic: "webhooks", queue: "webhooks" },
] as const;

export type Pipeline = (typeof pipelines)[number];
export type TopicName = Pipeline["topic"];
export type QueueName = Pipeline["queue"];

/** Receives before a message moves to its DLQ. */
export const maxReceiveCount = 5;
/**
 * Attempts to deliver a webhook message: its queue's receives before the DLQ. The consumer hides a
 * failed message for the retry schedule's wait, so these spread over more than a day.
 */
export const webhookAttempts = 10;
/** Receives before a message of `queue` moves to its DLQ. */
export const receivesOf = (queue: QueueName) =>
  queue === "webhooks" ? webhookAttempts : maxReceiveCount;
/** Each consumer's Lambda timeout; queues hide a received message for 6x that (AWS's advice). */
export const consumerTimeoutSeconds = 30;
export const visibilityTimeoutSeconds = 6 * consumerTimeoutSeconds;
/**
 * How long a sender owns the deliveries it leased. Longer than its timeout (no one takes them while
 * it runs), shorter than the visibility timeout (when the message comes back, the lease is over).
 */
export const leaseMs = 2 * consumerTimeoutSeconds * 1000;

/**
 * How long a channel queue keeps a message (SQS's default, set explicitly in infra/): a message
 * waiting longer, however slowly its queue is paced, is dropped.
 */
export const queueRetentionSeconds = 4 * 24 * 60 * 60;
/**
 * A delivery `queued` this long has no message on its queue any more (it went to the DLQ and was
 * not redriven, or was lost): the sweeper publishes it again. Longer than the retention, so a
 * slow backlog that is still on its queue is never published twice.
 */
export const strandedAfterMs = (queueRetentionSeconds + 24 * 60 * 60) * 1000;

export const templatesBucket = "templates";
