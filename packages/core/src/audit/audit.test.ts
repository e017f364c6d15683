import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Actor, Audit, Project } from "../index";

/** What each fact is about: the id its audit row files it under (`subjectId`). */
const subjectOf = {
  "notification.accepted": "notificationId",
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
  "template.changed": null,
  "suppression.added": null,
} as const;

describe("Audit.record", () => {
  it.each(Object.entries(subjectOf))("files %s under its %s", async (type, field) => {
    const project = await Project.create(`audit-${randomUUID()}`);
    // Every id a fact can carry at once (an API send's facts name its key too).
    const ids = {
      notificationId: randomUUID(),
      deliveryId: randomUUID(),
      otpId: randomUUID(),
      keyId: randomUUID(),
      issuerId: randomUUID(),
    };
    const at = new Date().toISOString();
    expect(await Audit.record([JSON.stringify({ type, projectId: project.id, ...ids, at })])).toBe(
      1,
    );
    const { events } = await Actor.provide(
      { type: "system", reason: "cli", projectId: project.id },
      () => Audit.list({ type, limit: 10 }),
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.subjectId).toBe(field ? ids[field] : null);
  });

  it("knows the subject of every fact type it documents", () => {
    expect(Object.keys(Audit.subjects).sort()).toEqual(Object.keys(subjectOf).sort());
  });
});
