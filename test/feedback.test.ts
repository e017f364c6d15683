import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { createApp } from "@pregon/api";
import { Database, Delivery, Email } from "@pregon/core";
import { createFeedbackHandler } from "@pregon/functions/handlers/feedback";
import type { SQSRecord } from "aws-lambda";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { acknowledge, event, receive, receiveAll, uniqueDomain } from "./support/email";
import {
  asSender,
  callApp,
  inProject,
  projectWithKey,
  refusingInserts,
  settings,
} from "./support/fixtures";
import { pipelines, stack } from "./support/setup";

const app = createApp(settings);
const feedback = createFeedbackHandler();
const sns = new SNSClient(stack.aws);

/** An SES event as configuration-set event publishing sends it (shape from AWS's examples). */
function sesEvent(eventType: string, deliveryId: string, address: string, extra: object = {}) {
  return {
    eventType,
    mail: {
      timestamp: "2026-11-27T00:40:02.012Z",
      source: "Pregón <no-reply@pregon.test>",
      sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/pregon.test",
      sendingAccountId: "123456789012",
      messageId: "0100018c-example",
      destination: [address],
      headersTruncated: false,
      tags: { "ses:configuration-set": ["pregon"], delivery_id: [deliveryId] },
    },
    ...extra,
  };
}

const hardBounce = {
  bounce: {
    bounceType: "Permanent",
    bounceSubType: "General",
    bouncedRecipients: [
      {
        emailAddress: "x",
        action: "failed",
        status: "5.1.1",
        diagnosticCode: "smtp; 550 5.1.1 user unknown",
      },
    ],
    timestamp: "2026-11-27T00:41:02.669Z",
    feedbackId: "0100018c-feedback",
  },
};
const softBounce = {
  bounce: { bounceType: "Transient", bounceSubType: "MailboxFull", bouncedRecipients: [] },
};
const complaint = { complaint: { complainedRecipients: [], complaintFeedbackType: "abuse" } };

/** Publishes SES events to this file's feedback topic and runs the handler on what arrives. */
async function inject(...events: object[]) {
  for (const e of events) {
    await sns.send(
      new PublishCommand({ TopicArn: pipelines.topics.feedback, Message: JSON.stringify(e) }),
    );
  }
  const records = await receiveAll(events.length, "feedback");
  // SQS does not keep order; the events are applied in the order they were published.
  records.sort((a, b) => Number(a.attributes.SentTimestamp) - Number(b.attributes.SentTimestamp));
  for (const record of records)
    expect(await feedback(event(record))).toEqual({ batchItemFailures: [] });
  await acknowledge(records, "feedback");
}

/** An email to one recipient, sent (as the sender records it). */
async function sentTo(projectId: string, address: string) {
  const accepted = await inProject(projectId, () =>
    Email.send({ to: [address], subject: "s", text: "t" }, settings.email),
  );
  const [row] = await Database.use().execute<{ id: string }>(
    sql`select id from deliveries where notification_id = ${accepted.id}`,
  );
  await Delivery.lease([row!.id], 60_000);
  await asSender(() => Delivery.markSent([{ id: row!.id, providerMessageId: "ses-1" }]));
  return row!.id;
}

async function statusOf(deliveryId: string) {
  const [row] = await Database.use().execute<{
    status: string;
    provider_message_id: string | null;
  }>(sql`select status, provider_message_id from deliveries where id = ${deliveryId}`);
  return row!;
}

async function suppressed(projectId: string, address: string) {
  const rows = await Database.use().execute<{ reason: string }>(
    sql`select reason from suppressions where project_id = ${projectId} and address = ${address}`,
  );
  return rows[0]?.reason;
}

describe("SES feedback", () => {
  it("marks a hard bounce bounced and suppresses the address; the next send skips it", async () => {
    const { project, as } = await projectWithKey();
    const address = `gone@${uniqueDomain()}`;
    const id = await sentTo(project.id, address);
    await inject(sesEvent("Bounce", id, address, hardBounce));
    expect((await statusOf(id)).status).toBe("bounced");
    expect(await suppressed(project.id, address)).toBe("bounce");

    const next = await as(() =>
      Email.send({ to: [address.toUpperCase()], subject: "s", text: "t" }, settings.email),
    );
    expect(next.recipients).toEqual({ accepted: 0, suppressed: 1, unsubscribed: 0, duplicates: 0 });
    // Facts: bounced and suppression.added, ids only.
    const facts: string[] = [];
    for (let i = 0; i < 20 && !facts.includes("suppression.added"); i++) {
      for (const record of await receive("audit")) {
        expect(record.body).not.toContain("@");
        const fact = JSON.parse(record.body);
        if (
          fact.data.deliveryId === id ||
          (fact.type === "suppression.added" && fact.projectId === project.id)
        ) {
          facts.push(fact.type);
        }
      }
    }
    expect(facts).toEqual(expect.arrayContaining(["delivery.bounced", "suppression.added"]));
  });

  it("suppresses a hard bounce whose first handling failed half-way, when the event comes again", async () => {
    const { project } = await projectWithKey();
    const address = `gone@${uniqueDomain()}`;
    const id = await sentTo(project.id, address);
    const record = {
      messageId: "bounce-1",
      body: JSON.stringify(sesEvent("Bounce", id, address, hardBounce)),
    } as SQSRecord;
    // The suppression cannot be written (as if the consumer died right after moving the delivery).
    await refusingInserts("suppressions", project.id, async () => {
      expect(await feedback(event(record))).toEqual({
        batchItemFailures: [{ itemIdentifier: "bounce-1" }],
      });
    });
    // SQS delivers the event again: the delivery moves and its address is suppressed.
    expect(await feedback(event(record))).toEqual({ batchItemFailures: [] });
    expect((await statusOf(id)).status).toBe("bounced");
    expect(await suppressed(project.id, address)).toBe("bounce");
  });

  it("does not suppress on a soft bounce; does on a complaint after delivery", async () => {
    const { project } = await projectWithKey();
    const domain = uniqueDomain();
    const soft = await sentTo(project.id, `full@${domain}`);
    await inject(sesEvent("Bounce", soft, `full@${domain}`, softBounce));
    expect((await statusOf(soft)).status).toBe("bounced");
    expect(await suppressed(project.id, `full@${domain}`)).toBeUndefined();

    const angry = await sentTo(project.id, `angry@${domain}`);
    await inject(
      sesEvent("Delivery", angry, `angry@${domain}`),
      sesEvent("Complaint", angry, `angry@${domain}`, complaint),
    );
    expect((await statusOf(angry)).status).toBe("complained");
    expect(await suppressed(project.id, `angry@${domain}`)).toBe("complaint");
  });

  it("ends in the right status whatever the order of events, and keeps a delivered that beat the sender", async () => {
    const { project, as } = await projectWithKey();
    const domain = uniqueDomain();
    const delayed = await sentTo(project.id, `slow@${domain}`);
    await inject(
      sesEvent("DeliveryDelay", delayed, `slow@${domain}`, {
        deliveryDelay: { delayType: "MailboxFull" },
      }),
      sesEvent("Delivery", delayed, `slow@${domain}`),
    );
    const [slow] = await Database.use().execute<{ status: string; error: string }>(
      sql`select status, error from deliveries where id = ${delayed}`,
    );
    expect(slow).toEqual({ status: "delivered", error: "delayed: MailboxFull" });

    const late = await sentTo(project.id, `late@${domain}`);
    await inject(
      sesEvent("Complaint", late, `late@${domain}`, complaint),
      sesEvent("Delivery", late, `late@${domain}`),
    );
    expect((await statusOf(late)).status).toBe("complained");

    // SES reports the delivery before the sender committed `sent`.
    const accepted = await as(() =>
      Email.send({ to: [`fast@${domain}`], subject: "s", text: "t" }, settings.email),
    );
    const [row] = await Database.use().execute<{ id: string }>(
      sql`select id from deliveries where notification_id = ${accepted.id}`,
    );
    await Delivery.lease([row!.id], 60_000);
    await inject(sesEvent("Delivery", row!.id, `fast@${domain}`));
    await asSender(() => Delivery.markSent([{ id: row!.id, providerMessageId: "ses-fast" }]));
    expect(await statusOf(row!.id)).toEqual({
      status: "delivered",
      provider_message_id: "ses-fast",
    });
    await asSender(() => Delivery.markSent([{ id: row!.id, providerMessageId: "ses-again" }]));
    expect((await statusOf(row!.id)).provider_message_id).toBe("ses-fast");
  });

  it("fails a rejected message, and ignores events it cannot place", async () => {
    const { project } = await projectWithKey();
    const address = `virus@${uniqueDomain()}`;
    const id = await sentTo(project.id, address);
    await inject(
      sesEvent("Reject", id, address, { reject: { reason: "Bad content" } }),
      sesEvent("Delivery", "00000000-0000-4000-8000-000000000000", address),
      sesEvent("Open", id, address),
      { eventType: "Delivery", mail: { messageId: "no-tags" } },
    );
    expect(await statusOf(id)).toMatchObject({ status: "failed" });
    expect(await feedback(event({ ...(await anyRecord()), body: "not json" }))).toMatchObject({
      batchItemFailures: [{ itemIdentifier: expect.any(String) }],
    });
  });
});

/** A real record shape to put a broken body in. */
async function anyRecord() {
  await sns.send(new PublishCommand({ TopicArn: pipelines.topics.feedback, Message: "{}" }));
  const [record] = await receiveAll(1, "feedback");
  await acknowledge([record!], "feedback");
  return record!;
}

describe("/v1/suppressions", () => {
  it("adds, lists with a cursor and lifts suppressions, per project and scope", async () => {
    const { secret, as } = await projectWithKey([
      "suppressions:read",
      "suppressions:write",
      "emails:send",
    ]);
    const call = (method: string, path: string, body?: unknown) =>
      callApp(app, secret, method, path, body);
    const domain = uniqueDomain();
    for (const name of ["c", "a", "b"]) {
      expect(
        (await call("POST", "/v1/suppressions", { channel: "email", address: `${name}@${domain}` }))
          .status,
      ).toBe(201);
    }
    expect(
      (await call("POST", "/v1/suppressions", { channel: "email", address: "nope" })).body.issues[0]
        .path,
    ).toEqual(["address"]);
    const first = await call("GET", "/v1/suppressions?channel=email&limit=2");
    expect(first.body.suppressions.map((s: { address: string }) => s.address)).toEqual([
      `a@${domain}`,
      `b@${domain}`,
    ]);
    expect(first.body.suppressions[0]).toMatchObject({ channel: "email", reason: "manual" });
    const rest = await call(
      "GET",
      `/v1/suppressions?channel=email&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(rest.body).toMatchObject({
      suppressions: [{ address: `c@${domain}` }],
      nextCursor: null,
    });

    const sent = await as(() =>
      Email.send({ to: [`a@${domain}`, `z@${domain}`], subject: "s", text: "t" }, settings.email),
    );
    expect(sent.recipients.suppressed).toBe(1);

    const lifted = await call(
      "DELETE",
      `/v1/suppressions?channel=email&address=${encodeURIComponent(`A@${domain}`)}`,
    );
    expect(lifted).toMatchObject({ status: 200, body: { address: `a@${domain}` } });
    expect(
      (
        await call(
          "DELETE",
          `/v1/suppressions?channel=email&address=${encodeURIComponent(`a@${domain}`)}`,
        )
      ).status,
    ).toBe(404);

    const reader = await projectWithKey(["suppressions:read"]);
    expect(
      (await callApp(app, reader.secret, "GET", "/v1/suppressions")).body.suppressions,
    ).toEqual([]);
    expect(
      (
        await callApp(app, reader.secret, "POST", "/v1/suppressions", {
          channel: "email",
          address: `x@${domain}`,
        })
      ).status,
    ).toBe(403);
  });

  it("takes the numbers SMS sends take: E.164 and valid for their country", async () => {
    const { secret } = await projectWithKey(["suppressions:write"]);
    const add = (address: string) =>
      callApp(app, secret, "POST", "/v1/suppressions", { channel: "sms", address });
    expect((await add("+34600111222")).status).toBe(201);
    // E.164 in form, but no country has numbers like these: an SMS send refuses them too.
    for (const address of ["+10000000000", "+999123456789", "34600111222"]) {
      const refused = await add(address);
      expect(refused.status).toBe(400);
      expect(refused.body.issues[0]).toMatchObject({
        path: ["address"],
        message: "must be a valid phone number in E.164 form",
      });
    }
  });
});
