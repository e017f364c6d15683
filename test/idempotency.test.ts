import { createApp } from "@pregon/api";
import { Clock, Database, Idempotency, Suppression } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { type Poller, startPoller } from "@pregon/local/poller";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { mailbox, mailer, sqs, uniqueDomain } from "./support/email";
import { bearer, projectWithKey, settings, until } from "./support/fixtures";
import { pipelines, stack } from "./support/setup";

const app = createApp(settings);

async function send(secret: string, body: unknown, key?: string) {
  const response = await app.request("/v1/emails", {
    method: "POST",
    headers: {
      ...bearer(secret),
      "content-type": "application/json",
      ...(key !== undefined && { "idempotency-key": key }),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function notificationsOf(projectId: string) {
  const rows = await Database.use().execute<{ count: number }>(
    sql`select count(*)::int as count from notifications where project_id = ${projectId}`,
  );
  return rows[0]!.count;
}

const poller: Poller = startPoller(sqs, stack.aws.region, {
  name: "email-sender",
  queueUrl: pipelines.queues.email.url,
  queueArn: pipelines.queues.email.arn,
  handler: createEmailSender({ mailer, sendRate: 5000 }),
});
afterAll(() => poller.stop());

describe("Idempotency-Key", () => {
  it("replays the first response to 50 repeats, and sends once", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const domain = uniqueDomain();
    const body = { to: [`a@${domain}`, `b@${domain}`], subject: "once", text: "t" };
    const first = await send(secret, body, "order-42");
    expect(first.status).toBe(202);
    for (let i = 0; i < 50; i++) {
      // Same body, keys in another order: the same request.
      expect(await send(secret, { text: "t", subject: "once", to: body.to }, "order-42")).toEqual(
        first,
      );
    }
    expect(await notificationsOf(project.id)).toBe(1);
    await until(async () => (await mailbox(domain)).length === 2);
    await new Promise((done) => setTimeout(done, 500));
    expect(await mailbox(domain)).toHaveLength(2);
  });

  it("refuses the key with another body (422), and scopes keys to the project", async () => {
    const a = await projectWithKey(["emails:send"]);
    const b = await projectWithKey(["emails:send"]);
    const body = { to: [`a@${uniqueDomain()}`], subject: "s", text: "t" };
    expect((await send(a.secret, body, "k1")).status).toBe(202);
    expect(await send(a.secret, { ...body, subject: "other" }, "k1")).toMatchObject({
      status: 422,
      body: { code: "UNPROCESSABLE_CONTENT", reason: "idempotency_key_reused" },
    });
    // Another project's identical key is its own.
    const other = await send(b.secret, body, "k1");
    expect(other.status).toBe(202);
    expect(await notificationsOf(b.project.id)).toBe(1);
  });

  it("sends once for 20 concurrent requests with one key, all answered with the first response", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const domain = uniqueDomain();
    const body = {
      to: Array.from({ length: 200 }, (_, i) => `r${i}@${domain}`),
      subject: "s",
      text: "t",
    };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => send(secret, body, "race")),
    );
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await notificationsOf(project.id)).toBe(1);
    await until(async () => (await mailbox(domain)).length === 200);
    await new Promise((done) => setTimeout(done, 500));
    expect(await mailbox(domain)).toHaveLength(200);
  });

  it("checks the header and forgets keys after 24 hours", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const body = { to: [`a@${uniqueDomain()}`], subject: "s", text: "t" };
    expect(await send(secret, body, "x".repeat(256))).toMatchObject({
      status: 400,
      body: { message: "Idempotency-Key: must be 1 to 255 characters" },
    });
    expect((await send(secret, body, "")).status).toBe(400);

    const clock = Clock.manual(new Date());
    const restore = Clock.use(clock);
    try {
      const first = await send(secret, body, "daily");
      clock.advance(Idempotency.retentionMs - 1);
      expect((await send(secret, body, "daily")).body.id).toBe(first.body.id);
      clock.advance(2);
      const later = await send(secret, body, "daily");
      expect(later.status).toBe(202);
      expect(later.body.id).not.toBe(first.body.id);
      expect(await notificationsOf(project.id)).toBe(2);
    } finally {
      restore();
    }
  });
});

describe("the suppression list", () => {
  it("skips suppressed addresses (any case) and counts them", async () => {
    const { secret, as } = await projectWithKey(["emails:send", "notifications:read"]);
    const domain = uniqueDomain();
    await as(() =>
      Suppression.add({ channel: "email", address: `Gone@${domain}`, reason: "bounce" }),
    );
    const other = await projectWithKey(["emails:send"]);
    await other.as(() =>
      Suppression.add({ channel: "email", address: `ok@${domain}`, reason: "bounce" }),
    );

    const accepted = await send(secret, {
      to: [`ok@${domain}`, `GONE@${domain}`],
      subject: "s",
      text: "t",
    });
    expect(accepted.body.recipients).toEqual({
      accepted: 1,
      suppressed: 1,
      unsubscribed: 0,
      duplicates: 0,
    });
    const status = await until(async () => {
      const response = await app.request(`/v1/notifications/${accepted.body.id}`, {
        headers: bearer(secret),
      });
      const body = await response.json();
      return body.status === "completed" && body;
    });
    expect(status.counts).toEqual({ sent: 1, suppressed: 1 });
    expect((await mailbox(domain)).map((e) => e.destination.to[0])).toEqual([`ok@${domain}`]);
  });
});
