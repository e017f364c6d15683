// The sweeper, the local stack's restart and a region's promotion put deliveries whose queue
// message is gone back on the queue of their own channel, and never keep republishing a backlog
// that is merely slow, nor one a promotion already republished.
import { createApp } from "@pregon/api";
import { Audit, Clock, Database, Delivery, Notification, Region } from "@pregon/core";
import { createAuditHandler } from "@pregon/functions/handlers/audit";
import {
  createEmailSender,
  createPushSender,
  createSmsSender,
} from "@pregon/functions/handlers/sender";
import { createSweeper } from "@pregon/functions/handlers/sweeper";
import { createInbox } from "@pregon/local/inbox";
import {
  leaseMs,
  type QueueName,
  queueRetentionSeconds,
  strandedAfterMs,
  visibilityTimeoutSeconds,
} from "@pregon/pipelines";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { event, mailer, taken, uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";

const app = createApp(settings);
const inbox = createInbox();
const senders = {
  email: createEmailSender({ mailer, sendRate: 5000 }),
  sms: createSmsSender({ gateway: inbox.smsGateway, sendRate: 5000 }),
  push: createPushSender({ gateway: inbox.pushGateway }),
};
const channels = Notification.Channel.options;

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
  for await (const records of taken(queue)) {
    for (const record of records) ids.push(...JSON.parse(record.body).deliveryIds);
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
    for await (const records of taken(channel)) {
      for (const record of records) seen[channel].push(...JSON.parse(record.body).deliveryIds);
      expect(await senders[channel](event(...records))).toEqual({ batchItemFailures: [] });
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
    for await (const records of taken("audit")) facts.push(...records.map((record) => record.body));
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
    for await (const records of taken("audit")) {
      replayed.push(...records.map((record) => record.body));
      expect(await createAuditHandler()(event(...records))).toEqual({ batchItemFailures: [] });
    }
    expect(replayed).toEqual(expect.arrayContaining(accepted.slice(1)));
    expect(replayed).not.toContain(accepted[0]);
    expect(await Audit.replayUnrecorded()).toBe(0);
  });
});

describe("Region.promote (a failover: the old region's queues are out of reach)", () => {
  /** What every channel queue holds now, taken off it: delivery ids by channel. */
  const takeEvery = async () =>
    Object.fromEntries(
      await Promise.all(channels.map(async (channel) => [channel, await takeAll(channel)])),
    ) as Record<(typeof channels)[number], string[]>;
  const all = (taken: Record<string, string[]>) => Object.values(taken).flat().sort();

  it("puts each queued delivery on its channel's queue once, however often it runs, and requeues ended leases", async () => {
    const clock = manualClock();
    const notifications = await sendOneOfEach();
    // The old region had their messages on its queues (lost with it); its sms sender held a lease.
    const lost = await takeEvery();
    expect(await Delivery.lease(lost.sms, leaseMs)).toHaveLength(1);
    clock.advance(1);

    const first = await Region.promote("eu-west-1");
    expect(first).toMatchObject({ region: "eu-west-1", again: false, requeued: 0 });
    const republished = await takeEvery();
    // Each queued delivery once, on its own channel's queue; the leased SMS is left to its lease.
    expect(republished.email).toEqual(expect.arrayContaining(lost.email));
    expect(republished.push).toEqual(expect.arrayContaining(lost.push));
    expect(republished.sms).not.toContain(lost.sms[0]);
    expect(all(republished)).toEqual([...new Set(all(republished))]);
    expect(first.republished).toBe(all(republished).length);

    // Run again (an operator unsure the first finished): nothing queued is published twice.
    clock.advance(1);
    const again = await Region.promote("eu-west-1");
    expect(again).toMatchObject({ again: true, promotedAt: first.promotedAt, republished: 0 });
    expect(all(await takeEvery())).toEqual([]);

    // Once the old region's lease has ended, a run brings that SMS back, once.
    clock.advance(leaseMs + 1);
    expect(await Region.promote("eu-west-1")).toMatchObject({ requeued: 1, republished: 0 });
    expect(await takeEvery()).toEqual({ email: [], sms: lost.sms, push: [] });
    expect(await Region.promote("eu-west-1")).toMatchObject({ requeued: 0, republished: 0 });
    expect(all(await takeEvery())).toEqual([]);

    // Sends accepted after the promotion have their own messages: a later run leaves them alone.
    clock.advance(1);
    const later = await sendOneOfEach();
    const theirs = await takeEvery();
    expect(all(theirs)).toHaveLength(3);
    expect(await Region.promote("eu-west-1")).toMatchObject({ republished: 0 });
    expect(all(await takeEvery())).toEqual([]);
    expect(await Region.current()).toEqual({ region: "eu-west-1", promotedAt: first.promotedAt });

    // Failing back is a promotion of its own: what is still queued goes on that region's queues.
    clock.advance(1);
    const back = await Region.promote("us-east-1");
    expect(back).toMatchObject({ region: "us-east-1", again: false });
    expect(back.promotedAt).not.toBe(first.promotedAt);
    expect(await Region.promote("us-east-1")).toMatchObject({ again: true, republished: 0 });
    // Each sent once, by its own channel's sender.
    const sent = await sendQueued();
    expect(all(sent)).toEqual(expect.arrayContaining([...all(lost), ...all(theirs)]));
    expect(all(sent)).toEqual([...new Set(all(sent))]);
    expect(await statuses([...notifications, ...later])).toEqual(Array(6).fill("sent"));
  });

  it("forgets every push endpoint: they belong to the old region's platform application", async () => {
    await sendOneOfEach();
    await sendQueued(); // the push sender makes the device's endpoint
    const withEndpoint = sql`select id from devices where endpoint_arn is not null`;
    const made = (await Database.use().execute<{ id: string }>(withEndpoint)).map((r) => r.id);
    expect(made.length).toBeGreaterThan(0);

    const promoted = await Region.promote("eu-west-1");
    expect(promoted.endpointsForgotten).toBeGreaterThanOrEqual(made.length);
    const left = (await Database.use().execute<{ id: string }>(withEndpoint)).map((r) => r.id);
    expect(left.filter((id) => made.includes(id))).toEqual([]);
  });
});
