import { createApp } from "@pregon/api";
import { Audit, Database, Email, Notification, Otp } from "@pregon/core";
import { createAuditHandler } from "@pregon/functions/handlers/audit";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { acknowledge, event, mailer, receive, receiveAll, uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";
import { ownerUrl } from "./support/setup";

const app = createApp(settings);
const sender = createEmailSender({ mailer, sendRate: 5000 });
const audit = createAuditHandler();

/** Runs the audit consumer on everything on this file's audit queue. */
async function drainAudit() {
  for (let empty = 0; empty < 2; ) {
    const records = await receive("audit");
    if (records.length === 0) {
      empty++;
      continue;
    }
    expect(await audit(event(...records))).toEqual({ batchItemFailures: [] });
    await acknowledge(records, "audit");
  }
}

describe("the audit trail", () => {
  it("records a send's facts from accepted to sent, once each, and lists them with filters", async () => {
    const { secret, project, as } = await projectWithKey(["emails:send", "audit:read"]);
    const domain = uniqueDomain();
    const accepted = await as(() =>
      Email.send({ to: [`a@${domain}`, `b@${domain}`], subject: "s", text: "t" }, settings.email),
    );
    const [record] = await receiveAll(1);
    await sender(event(record!));
    await acknowledge([record!]);
    await drainAudit();

    const call = (path: string) => callApp(app, secret, "GET", path);
    const all = await call("/v1/audit");
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: { type: string }) => e.type).sort()).toEqual([
      "delivery.sent",
      "delivery.sent",
      "key.created", // the test's own key
      "notification.accepted",
      "notification.completed",
    ]);
    expect(JSON.stringify(all.body)).not.toContain("@");
    const sent = await call("/v1/audit?type=delivery.sent&limit=1");
    expect(sent.body.events).toHaveLength(1);
    const rest = await call(`/v1/audit?type=delivery.sent&limit=1&cursor=${sent.body.nextCursor}`);
    expect(rest.body).toMatchObject({ events: [{ type: "delivery.sent" }], nextCursor: null });
    const about = await call(`/v1/audit?subjectId=${accepted.id}`);
    expect(about.body.events.map((e: { type: string }) => e.type).sort()).toEqual([
      "notification.accepted",
      "notification.completed",
    ]);
    const future = await call(`/v1/audit?since=${encodeURIComponent("2099-01-01T00:00:00Z")}`);
    expect(future.body.events).toEqual([]);

    // A fact delivered again is not recorded twice.
    const fact = {
      type: "delivery.sent",
      projectId: project.id,
      deliveryId: crypto.randomUUID(),
      at: new Date().toISOString(),
    };
    expect(await Audit.record([JSON.stringify(fact)])).toBe(1);
    expect(await Audit.record([JSON.stringify(fact)])).toBe(0);

    const other = await projectWithKey(["audit:read"]);
    expect((await callApp(app, other.secret, "GET", "/v1/audit")).body.events).toEqual([]);
    const noScope = await projectWithKey(["emails:send"]);
    expect((await callApp(app, noScope.secret, "GET", "/v1/audit")).status).toBe(403);
  });

  it("records the API's own facts: keys, templates, one-time codes", async () => {
    const { secret, as } = await projectWithKey(["admin"]);
    const call = (method: string, path: string, body?: unknown) =>
      callApp(app, secret, method, path, body);
    const created = await call("POST", "/v1/keys", { name: "ci", scopes: ["otp:send"] });
    await call("DELETE", `/v1/keys/${created.body.id}`);
    await call("PUT", "/v1/templates/welcome", { subject: "s", html: "h" });
    const otp = await as(() =>
      Otp.send(
        {
          channel: "email",
          to: `o@${uniqueDomain()}`,
          purpose: "login",
          length: 6,
          ttlSeconds: 300,
        },
        settings,
      ),
    );
    const code = (await Otp.issueCode(otp.id))!;
    await as(() => Otp.verify(otp.id, code === "000000" ? "000001" : "000000"));
    await as(() => Otp.verify(otp.id, code));
    await drainAudit();

    const { body } = await call("GET", "/v1/audit?limit=100");
    const types = body.events.map((e: { type: string }) => e.type);
    for (const type of [
      "key.created",
      "key.revoked",
      "template.changed",
      "otp.issued",
      "otp.failed",
      "otp.verified",
    ]) {
      expect(types).toContain(type);
    }
    const revoked = body.events.find((e: { type: string }) => e.type === "key.revoked");
    expect(revoked.subjectId).toBe(created.body.id);
    expect(JSON.stringify(body)).not.toContain(code);
    expect(JSON.stringify(body)).not.toContain(created.body.key);
  });

  it("names the key, channel, recipient HMAC, status and request of an API send", async () => {
    const { secret, project, key } = await projectWithKey(["emails:send", "audit:read"]);
    const address = `Ana@${uniqueDomain()}`;
    const sent = await callApp(app, secret, "POST", "/v1/emails", {
      to: [address],
      subject: "s",
      text: "t",
    });
    const requestId = sent.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    // Everything on the email queue (earlier tests may have left messages there).
    for (let records = await receiveAll(1); records.length; records = await receive()) {
      await sender(event(...records));
      await acknowledge(records);
    }
    await drainAudit();

    const { body } = await callApp(app, secret, "GET", "/v1/audit?type=delivery.sent");
    const recipientHmac = Notification.recipientHmac(project.id, "email", address);
    expect(recipientHmac).toBe(
      Notification.recipientHmac(project.id, "email", address.toLowerCase()),
    );
    expect(body.events).toEqual([
      expect.objectContaining({
        type: "delivery.sent",
        notificationId: sent.body.id,
        keyId: key.id,
        channel: "email",
        recipientHmac,
        status: "sent",
        requestId,
      }),
    ]);
    const accepted = await callApp(app, secret, "GET", "/v1/audit?type=notification.accepted");
    expect(accepted.body.events[0]).toMatchObject({ keyId: key.id, channel: "email", requestId });
    // The sender completed the send: that fact too names the send's key and request.
    const completed = await callApp(app, secret, "GET", "/v1/audit?type=notification.completed");
    expect(completed.body.events).toEqual([
      expect.objectContaining({
        subjectId: sent.body.id,
        keyId: key.id,
        requestId,
        fact: expect.objectContaining({
          actor: { type: "system", reason: "sender" },
          data: { notificationId: sent.body.id, channel: "email", counts: { sent: 1 } },
        }),
      }),
    ]);
    // A send made with a key is still filed under its notification, not under the key.
    const about = await callApp(app, secret, "GET", `/v1/audit?subjectId=${sent.body.id}`);
    expect(about.body.events.map((e: { type: string }) => e.type).sort()).toEqual([
      "notification.accepted",
      "notification.completed",
    ]);
    const ofSend = await callApp(app, secret, "GET", `/v1/audit?notificationId=${sent.body.id}`);
    expect(ofSend.status).toBe(200);
    expect(ofSend.body.events.map((e: { type: string }) => e.type).sort()).toEqual([
      "delivery.sent",
      "notification.accepted",
      "notification.completed",
    ]);
    const bad = await callApp(app, secret, "GET", "/v1/audit?notificationId=nope");
    expect(bad).toMatchObject({ status: 400, body: { reason: "invalid_input" } });
    // The address itself is in no audit row.
    const rows = await Database.use().execute(
      sql`select * from audit_log where project_id = ${project.id}`,
    );
    expect(JSON.stringify(rows).toLowerCase()).not.toContain(address.toLowerCase());
  });

  it("is append-only: the application role may not update or delete, and a trigger refuses the owner", async () => {
    const { project } = await projectWithKey();
    await Audit.record([
      JSON.stringify({ type: "x.y", projectId: project.id, at: new Date().toISOString() }),
    ]);
    await expect(
      Database.use().execute(sql`update audit_log set type = 'z' where project_id = ${project.id}`),
    ).rejects.toMatchObject({ cause: { code: "42501" } });
    await expect(
      Database.use().execute(sql`delete from audit_log where project_id = ${project.id}`),
    ).rejects.toMatchObject({ cause: { code: "42501" } });
    const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
    try {
      await expect(
        owner`update audit_log set type = 'z' where project_id = ${project.id}`,
      ).rejects.toMatchObject({ message: "audit_log is append-only" });
      await expect(
        owner`delete from audit_log where project_id = ${project.id}`,
      ).rejects.toMatchObject({ message: "audit_log is append-only" });
    } finally {
      await owner.end();
    }
  });
});
