// The sweeper and the local stack's restart put deliveries whose queue message is gone back on the
// queue of their own channel, and never keep republishing a backlog that is merely slow.
import { createApp } from "@pregon/api";
import { Audit, Clock, Database, Delivery } from "@pregon/core";
import { createAuditHandler } from "@pregon/functions/handlers/audit";
import {
  createEmailSender,
  createPushSender,
  createSmsSender,
} from "@pregon/functions/handlers/sender";
import { createSweeper } from "@pregon/functions/handlers/sweeper";
import { createInbox } from "@pregon/functions/local/inbox";
import {
  leaseMs,
  type QueueName,
  queueRetentionSeconds,
  strandedAfterMs,
  visibilityTimeoutSeconds,
} from "@pregon/functions/pipelines";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { acknowledge, event, mailer, receive, uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";

const app = createApp(settings);
const inbox = createInbox();
const senders = {
  email: createEmailSender({ mailer, sendRate: 5000 }),
  sms: createSmsSender({ sender: inbox.smsSender, sendRate: 5000 }),
  push: createPushSender({ sender: inbox.pushSender }),
};
const channels = ["email", "sms", "push"] as const;

const restoreClock: Array<() => void> = [];
afterEach(() => {
  for (const restore of restoreClock.splice(0)) restore();
});

function manualClock() {
  const clock = Clock.manual(new Date());
  restoreClock.push(Clock.use(clock));
  return clock;
}

let next = 300_000;

/** One email, one SMS and one push notification, accepted through the API: their notification ids. */
async function sendOneOfEach() {
  const { secret } = await projectWithKey(["admin"]);
  const device = await callApp(app, secret, "POST", "/v1/devices", {
    userId: "u",
    platform: "fcm",
    token: `token-${next}`,
  });
  const answers = [
    await callApp(app, secret, "POST", "/v1/emails", {
      to: [`a@${uniqueDomain()}`],
      subject: "s",
      text: "t",
    }),
    await callApp(app, secret, "POST", "/v1/sms", { to: [`+34600${next++}`], text: "Hola" }),
    await callApp(app, secret, "POST", "/v1/push", {
      deviceIds: [device.body.id],
      title: "T",
      body: "B",
    }),
  ];
  for (const answer of answers) expect(answer.status).toBe(202);
  return answers.map((answer) => answer.body.id as string);
}

/** The delivery ids named by everything on a queue now; the messages are deleted (lost). */
async function takeAll(queue: QueueName): Promise<string[]> {
  const ids: string[] = [];
  for (let records = await receive(queue); records.length; records = await receive(queue)) {
    for (const record of records) ids.push(...JSON.parse(record.body).deliveryIds);
    await acknowledge(records, queue);
  }
  return ids;
}

async function statuses(notificationIds: string[]) {
  const rows = await Database.use().execute<{ status: string }>(
    sql`select status from deliveries where notification_id in ${notificationIds}
        order by status`,
  );
  return rows.map((row) => row.status);
}

/** Runs each channel's sender on what its queue holds now; the delivery ids each queue held. */
async function sendQueued() {
  const seen: Record<string, string[]> = {};
  for (const channel of channels) {
    seen[channel] = [];
    for (let records = await receive(channel); records.length; records = await receive(channel)) {
      for (const record of records) seen[channel].push(...JSON.parse(record.body).deliveryIds);
      expect(await senders[channel](event(...records))).toEqual({ batchItemFailures: [] });
      await acknowledge(records, channel);
    }
  }
  return seen;
}

describe("the sweeper", () => {
  it("puts each channel's abandoned deliveries back on that channel's own queue", async () => {
    const clock = manualClock();
    const notifications = await sendOneOfEach();
    // A sender took each message, leased its deliveries and died; the message is gone.
    const taken = Object.fromEntries(
      await Promise.all(channels.map(async (channel) => [channel, await takeAll(channel)])),
    ) as Record<(typeof channels)[number], string[]>;
    for (const channel of channels) {
      expect(taken[channel]).toHaveLength(1);
      expect(await Delivery.lease(taken[channel], leaseMs)).toHaveLength(1);
    }

    const sweep = createSweeper();
    expect((await sweep()).requeued).toBe(0); // the lease still runs
    clock.advance(leaseMs + visibilityTimeoutSeconds * 1000 + 1);
    expect((await sweep()).requeued).toBe(3);
    // Each on its own queue, sent by its own sender: nothing failed on the way.
    expect(await sendQueued()).toEqual(taken);
    expect(await statuses(notifications)).toEqual(["sent", "sent", "sent"]);
  });

  it("republishes deliveries left queued only once the queue cannot still hold their message, and once per bound", async () => {
    const clock = manualClock();
    expect(strandedAfterMs).toBeGreaterThan(queueRetentionSeconds * 1000);
    const notifications = await sendOneOfEach();
    // A message that ran out of receives while Postgres was down: the deliveries stayed queued.
    const lost = Object.fromEntries(
      await Promise.all(channels.map(async (channel) => [channel, await takeAll(channel)])),
    );
    const sweep = createSweeper();
    // A slow, paced backlog (10,000 emails at 1/s: under 3 hours) is never republished.
    clock.advance(3 * 60 * 60 * 1000);
    expect((await sweep()).stranded).toBe(0);
    clock.advance(queueRetentionSeconds * 1000 - 3 * 60 * 60 * 1000);
    expect((await sweep()).stranded).toBe(0);
    clock.advance(strandedAfterMs - queueRetentionSeconds * 1000 + 1);
    expect((await sweep()).stranded).toBe(3);
    expect((await sweep()).stranded).toBe(0); // the bound starts again
    for (const channel of channels) expect(await takeAll(channel)).toEqual(lost[channel]);
    clock.advance(strandedAfterMs + 1);
    expect((await sweep()).stranded).toBe(3);
    await sendQueued();
    expect(await statuses(notifications)).toEqual(["sent", "sent", "sent"]);
  });
});

describe("Delivery.republishPending (the local stack's start)", () => {
  it("puts every queued or sending delivery back on its channel's queue; a leased one waits for its lease", async () => {
    const clock = manualClock();
    const notifications = await sendOneOfEach();
    // The emulator forgot its queues; the SMS was being sent when the stack died.
    const lost = Object.fromEntries(
      await Promise.all(channels.map(async (channel) => [channel, await takeAll(channel)])),
    );
    expect(await Delivery.lease(lost.sms!, leaseMs)).toHaveLength(1);

    expect(await Delivery.republishPending()).toBe(3);
    for (const channel of channels) expect(await takeAll(channel)).toEqual(lost[channel]);
    await Delivery.republishPending();
    await sendQueued();
    // The leased SMS is left to its lease (its sender may still be alive)...
    expect(await statuses(notifications)).toEqual(["sending", "sent", "sent"]);
    // ...and comes back once any lease the last run held has ended.
    expect(await Delivery.requeueAbandoned(0)).toBe(0);
    clock.advance(leaseMs + 1);
    expect(await Delivery.requeueAbandoned(0)).toBe(1);
    await sendQueued();
    expect(await statuses(notifications)).toEqual(["sent", "sent", "sent"]);
  });

  it("replays the facts the emulator forgot before the audit consumer recorded them, once", async () => {
    const notifications = await sendOneOfEach();
    for (const channel of channels) await takeAll(channel);
    // The events queue forgot them; one of them had been recorded already.
    const facts: string[] = [];
    for (let records = await receive("audit"); records.length; records = await receive("audit")) {
      facts.push(...records.map((record) => record.body));
      await acknowledge(records, "audit");
    }
    const accepted = facts.filter((body) => {
      const fact = JSON.parse(body);
      return (
        fact.type === "notification.accepted" && notifications.includes(fact.data.notificationId)
      );
    });
    expect(accepted).toHaveLength(3);
    expect(await Audit.record(accepted.slice(0, 1))).toBe(1);

    expect(await Audit.replayUnrecorded()).toBeGreaterThanOrEqual(2);
    const replayed: string[] = [];
    for (let records = await receive("audit"); records.length; records = await receive("audit")) {
      replayed.push(...records.map((record) => record.body));
      expect(await createAuditHandler()(event(...records))).toEqual({ batchItemFailures: [] });
      await acknowledge(records, "audit");
    }
    expect(replayed).toEqual(expect.arrayContaining(accepted.slice(1)));
    expect(replayed).not.toContain(accepted[0]);
    expect(await Audit.replayUnrecorded()).toBe(0);
  });
});
