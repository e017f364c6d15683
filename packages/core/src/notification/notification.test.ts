import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { Actor, Database, Delivery, Dispatch, Fact, Notification, Project } from "../index";

const inProject = <T>(projectId: string, work: () => Promise<T>) =>
  Actor.provide({ type: "system", reason: "cli", projectId }, work);
const asSender = <T>(work: () => Promise<T>) =>
  Actor.provide({ type: "system", reason: "sender" }, work);

/** A notification of `count` recipients, `suppressed` of them on the suppression list. */
async function written(count: number, suppressed = 0) {
  const project = await Project.create(`completion-${randomUUID()}`);
  return inProject(project.id, () =>
    Notification.write({
      channel: "email",
      content: { from: "a@pregon.test", replyTo: null, subject: "s", text: "t", html: null },
      variables: {},
      tags: {},
      recipients: Array.from({ length: count }, (_, position) => ({
        position,
        address: `r${position}@x.example`,
        name: null,
        variables: null,
        status: position < suppressed ? ("suppressed" as const) : ("queued" as const),
      })),
      counts: { accepted: count - suppressed, suppressed, unsubscribed: 0, duplicates: 0 },
    }),
  );
}

/** The `notification.completed` facts written for a notification. */
async function completions(notificationId: string): Promise<Fact.Envelope[]> {
  const rows = await Database.use().execute<{ body: string }>(sql`
    select body from outbox
    where topic = 'events' and body::json->>'type' = 'notification.completed'
      and body::json->'data'->>'notificationId' = ${notificationId}`);
  return rows.map((row) => Fact.Envelope.parse(JSON.parse(row.body)));
}

/** A channel that sends at once, after `before` (all sends of a test can meet there). */
const instant = (before: () => Promise<void> = async () => {}): Dispatch.Channel<null> => ({
  name: "email",
  metric: "Test",
  prepare: async () => null,
  async send() {
    await before();
    return { messageId: "m" };
  },
});

const options = {
  hook: async () => ({}),
  pace: async () => {},
  leaseMs: 60_000,
  lastReceive: false,
};

describe("notification.completed", () => {
  it("is written once when two senders settle the last two deliveries at the same time", async () => {
    for (let round = 0; round < 15; round++) {
      const { id, deliveryIds } = await written(2);
      // Both sends answer together, so both statuses and both checks race.
      let arrived = 0;
      let release = () => {};
      const meet = new Promise<void>((done) => {
        release = done;
      });
      const together = async () => {
        if (++arrived === 2) release();
        await meet;
      };
      await Promise.all(
        deliveryIds.map((deliveryId) =>
          asSender(() => Dispatch.dispatch([deliveryId], options, instant(together))),
        ),
      );
      const facts = await completions(id);
      expect(facts).toHaveLength(1);
      expect(facts[0]).toMatchObject({
        subject: id,
        actor: { type: "system", reason: "sender" },
        data: { notificationId: id, channel: "email", counts: { sent: 2 } },
      });
    }
  });

  it("is written once when the queue delivers a message again while its sender works", async () => {
    const { id, deliveryIds } = await written(3);
    // Two receives of the same message at once: one leases the deliveries, the other finds them
    // leased; both then check the notification.
    await Promise.all(
      [1, 2].map(() => asSender(() => Dispatch.dispatch(deliveryIds, options, instant()))),
    );
    // A third receive after the send: nothing to lease, nothing to complete again.
    await asSender(() => Dispatch.dispatch(deliveryIds, options, instant()));
    const facts = await completions(id);
    expect(facts).toHaveLength(1);
    expect(facts[0]!.data.counts).toEqual({ sent: 3 });
  });

  it("is written once however many check at once, and not while a delivery is pending", async () => {
    const { id, deliveryIds } = await written(3);
    await asSender(() => Dispatch.dispatch(deliveryIds.slice(0, 2), options, instant()));
    expect(await completions(id)).toEqual([]);
    await asSender(async () => {
      await Delivery.lease(deliveryIds.slice(2), 60_000);
      await Delivery.markFailed(deliveryIds[2]!, "refused");
      await Promise.all(Array.from({ length: 10 }, () => Notification.complete([id])));
    });
    expect(await completions(id)).toHaveLength(1);
    expect((await completions(id))[0]!.data.counts).toEqual({ sent: 2, failed: 1 });
  });

  it("is written at acceptance when every recipient is suppressed", async () => {
    const { id, deliveryIds } = await written(2, 2);
    expect(deliveryIds).toEqual([]);
    const [fact] = await completions(id);
    expect(fact).toMatchObject({
      actor: { type: "system", reason: "cli" },
      data: { notificationId: id, counts: { suppressed: 2 } },
    });
  });

  it("is written by the sweeper when the sender died before checking", async () => {
    const { id, deliveryIds } = await written(1);
    // The sender recorded the status, then died before checking the notification.
    await asSender(async () => {
      await Delivery.lease(deliveryIds, 60_000);
      await Delivery.markSent([{ id: deliveryIds[0]!, providerMessageId: "ses-1" }]);
    });
    expect(await completions(id)).toEqual([]);
    const sweep = () =>
      Actor.provide({ type: "system", reason: "sweeper" }, () => Notification.completeSettled());
    expect(await sweep()).toBeGreaterThanOrEqual(1);
    expect(await completions(id)).toHaveLength(1);
    expect(await sweep()).toBe(0);
    expect(await completions(id)).toHaveLength(1);
  });
});
