import { functionDefaults } from "./config";
import { configurationSet } from "./email";
import { declared, topics } from "./messaging";
import { templates } from "./storage";

/** Email sender instances at most: together they share the account's SES sending rate. */
const emailSenderConcurrency = 2;

const emailQueue = declared.find(({ pipeline }) => pipeline.queue === "email")!.queue;

emailQueue.subscribe(
  {
    ...functionDefaults,
    handler: "packages/functions/src/email-sender.handler",
    link: [templates, ...topics],
    environment: {
      ...functionDefaults.environment,
      PREGON_EMAIL_SENDER_CONCURRENCY: String(emailSenderConcurrency),
      PREGON_SES_CONFIGURATION_SET: configurationSet.configurationSetName,
    },
    permissions: [{ actions: ["ses:SendEmail", "ses:GetAccount"], resources: ["*"] }],
  },
  {
    // One message (50 emails) per invocation: at 2 emails/s per instance or more it fits the 30 s
    // timeout. Larger batches would return unstarted records and spend their receives.
    batch: { size: 1, partialResponses: true },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: emailSenderConcurrency } },
    },
  },
);

const feedbackQueue = declared.find(({ pipeline }) => pipeline.queue === "feedback")!.queue;

/** SES events (through the feedback topic) -> delivery statuses and the suppression list. */
feedbackQueue.subscribe(
  { ...functionDefaults, handler: "packages/functions/src/feedback.handler", link: topics },
  { batch: { size: 10, partialResponses: true } },
);

const auditQueue = declared.find(({ pipeline }) => pipeline.queue === "audit")!.queue;

/** Facts from the events topic -> the append-only audit log. */
auditQueue.subscribe(
  { ...functionDefaults, handler: "packages/functions/src/audit.handler" },
  { batch: { size: 10, partialResponses: true } },
);

/** Requeues abandoned deliveries, republishes what a failed publish left, purges old rows. */
export const sweeper = new sst.aws.Cron("Sweeper", {
  schedule: "rate(1 minute)",
  function: {
    ...functionDefaults,
    handler: "packages/functions/src/sweeper.handler",
    link: topics,
  },
});
