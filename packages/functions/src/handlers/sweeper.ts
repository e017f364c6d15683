import * as Actor from "@pregon/core/actor";
import * as Delivery from "@pregon/core/delivery";
import * as Idempotency from "@pregon/core/idempotency";
import * as Log from "@pregon/core/log";
import * as Notification from "@pregon/core/notification";
import * as Otp from "@pregon/core/otp";
import * as Outbox from "@pregon/core/outbox";
import * as RateLimit from "@pregon/core/ratelimit";
import * as Reputation from "@pregon/core/reputation";
import * as Webhook from "@pregon/core/webhook";
import { strandedAfterMs, visibilityTimeoutSeconds } from "@pregon/pipelines";
import type { ScheduledEvent } from "aws-lambda";

/** Unpublished outbox rows older than this were left by a failed publish, not one in flight. */
const staleOutboxMs = 60_000;
/** Published outbox rows are kept this long for inspection. */
const outboxRetentionMs = 7 * 24 * 60 * 60 * 1000;

/**
 * The cron sweeper: puts back on their channel's queue deliveries whose sender vanished and
 * deliveries queued for longer than the queue keeps a message, completes notifications whose
 * sender died before checking, publishes what a failed publish left in the outbox, purges old
 * outbox rows, limit counters, OTPs, fraud events and settled webhook messages, forgets expired
 * idempotency keys, and measures email's bounce and complaint rates (pausing bulk email over the stop threshold).
 */
export function createSweeper() {
  return (_event?: ScheduledEvent) => Actor.provide({ type: "system", reason: "sweeper" }, sweep);
}

async function sweep() {
  // Leases that ended a visibility timeout ago: their queue message did not come back.
  const requeued = await Delivery.requeueAbandoned(visibilityTimeoutSeconds * 1000);
  const stranded = await Delivery.republishQueued(strandedAfterMs);
  const completed = await Notification.completeSettled();
  const republished = await Outbox.publishStale(staleOutboxMs);
  const purged = await Outbox.purge(outboxRetentionMs);
  const forgotten = await Idempotency.purge();
  const counters = await RateLimit.purge();
  const otps = await Otp.purge();
  const webhookMessages = await Webhook.purge();
  const reputation = await Reputation.evaluate();
  const result = {
    requeued,
    stranded,
    completed,
    republished,
    purged,
    forgotten,
    counters,
    otps,
    webhookMessages,
    paused: reputation.paused.length,
  };
  Log.logger.info("sweep done", result);
  Log.flushMetrics();
  return result;
}
