import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Actor, Audit, Fact, Project } from "../index";

/** What each fact is about: the data field its audit row is filed under (`subjectId`). */
const subjectOf = {
  "notification.accepted": "notificationId",
  "notification.completed": "notificationId",
  "delivery.sent": "deliveryId",
  "delivery.failed": "deliveryId",
  "delivery.expired": "deliveryId",
  "delivery.delivered": "deliveryId",
  "delivery.bounced": "deliveryId",
  "delivery.complained": "deliveryId",
  "otp.issued": "otpId",
  "otp.verified": "otpId",
  "otp.failed": "otpId",
  "otp.locked": "otpId",
  "key.created": "keyId",
  "key.revoked": "keyId",
  "issuer.created": "issuerId",
  "issuer.removed": "issuerId",
  // A template's key is its subject, but not an id: its rows have no subjectId.
  "template.changed": null,
  "suppression.added": null,
  "webhook.created": "endpointId",
  "webhook.deleted": "endpointId",
  "webhook.secret_rotated": "endpointId",
  "webhook.disabled": "endpointId",
  "recipient.unsubscribed": null,
  "recipient.subscribed": null,
  "reputation.paused": null,
  "reputation.resumed": null,
  "reputation.refused": null,
} as const;

const eventsOf = (projectId: string, type: string) =>
  Actor.provide({ type: "system", reason: "cli", projectId }, () =>
    Audit.list({ type, limit: 10 }),
  );

describe("Audit.record", () => {
  it.each(Object.entries(subjectOf))("files %s under its %s", async (type, field) => {
    const project = await Project.create(`audit-${randomUUID()}`);
    const definition = Fact.all().find((d) => d.type === type)!;
    // Every id a fact can carry at once.
    const ids: Record<string, string> = {
      notificationId: randomUUID(),
      deliveryId: randomUUID(),
      otpId: randomUUID(),
      keyId: randomUUID(),
      templateKey: "welcome",
      issuerId: randomUUID(),
      endpointId: randomUUID(),
      disabledReason: "failing",
    };
    const data = Object.fromEntries(
      Object.keys(definition.data.shape).map((name) => [name, ids[name] ?? "x"]),
    );
    const fact: Fact.Envelope = {
      type,
      version: definition.version,
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      projectId: project.id,
      actor: { type: "system", reason: "sender" },
      subject: definition.subject && String(data[definition.subject]),
      data,
    };
    expect(await Audit.record([JSON.stringify(fact)])).toBe(1);
    const { events } = await eventsOf(project.id, type);
    expect(events).toHaveLength(1);
    expect(events[0]!.subjectId).toBe(field ? ids[field] : null);
    expect(events[0]!.fact).toEqual(fact);
  });

  it("knows the subject of every fact type there is", () => {
    expect(Fact.all().map((definition) => definition.type)).toEqual(
      expect.arrayContaining(Object.keys(subjectOf)),
    );
    expect(Fact.all()).toHaveLength(Object.keys(subjectOf).length);
  });

  it("records a fact of a type or version it does not know, filed under what it recognises", async () => {
    const project = await Project.create(`audit-${randomUUID()}`);
    const notificationId = randomUUID();
    const fact: Fact.Envelope = {
      type: "notification.archived",
      version: 2,
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      projectId: project.id,
      actor: { type: "system", reason: "sweeper" },
      subject: notificationId,
      data: { notificationId, channel: "sms", extra: 1 },
    };
    expect(await Audit.record([JSON.stringify(fact)])).toBe(1);
    const { events } = await eventsOf(project.id, "notification.archived");
    expect(events[0]).toMatchObject({ subjectId: notificationId, notificationId, channel: "sms" });
    expect(events[0]!.fact).toEqual(fact);
  });

  it("still records facts published before facts were versioned", async () => {
    const project = await Project.create(`audit-${randomUUID()}`);
    const old = {
      type: "delivery.sent",
      projectId: project.id,
      notificationId: randomUUID(),
      deliveryId: randomUUID(),
      status: "sent",
      channel: "email",
      recipientHmac: "b3f1",
      keyId: randomUUID(),
      requestId: "r-1",
      at: new Date().toISOString(),
    };
    expect(await Audit.record([JSON.stringify(old)])).toBe(1);
    const { events } = await eventsOf(project.id, "delivery.sent");
    expect(events[0]).toMatchObject({
      subjectId: old.deliveryId,
      notificationId: old.notificationId,
      keyId: old.keyId,
      requestId: "r-1",
      channel: "email",
      recipientHmac: "b3f1",
      status: "sent",
      fact: old,
      occurredAt: old.at,
    });
  });
});
