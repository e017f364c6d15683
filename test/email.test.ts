import { SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { createApp } from "@pregon/api";
import {
  Clock,
  Database,
  Delivery,
  Email,
  Fact,
  Notification,
  Outbox,
  snsPublisher,
} from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { createSweeper } from "@pregon/functions/handlers/sweeper";
import { type Poller, startPoller } from "@pregon/local/poller";
import { leaseMs } from "@pregon/pipelines";
import type { Context } from "aws-lambda";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  acknowledge,
  event,
  mailbox,
  mailer,
  receive,
  receiveAll,
  sqs,
  uniqueDomain,
} from "./support/email";
import { bearer, projectWithKey, settings, until } from "./support/fixtures";
import { pipelines, stack } from "./support/setup";
import { stallRenderClock } from "./support/stall";

const app = createApp(settings);
const sender = createEmailSender({ mailer, sendRate: 5000 });

async function post(secret: string, body: unknown) {
  const response = await app.request("/v1/emails", {
    method: "POST",
    headers: { ...bearer(secret), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function get(secret: string, path: string) {
  const response = await app.request(path, { headers: bearer(secret) });
  return { status: response.status, body: await response.json() };
}

const pollers: Poller[] = [];
const restoreClock: Array<() => void> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
  for (const restore of restoreClock.splice(0)) restore();
  Outbox.configure(snsPublisher(new SNSClient(stack.aws), pipelines.topics));
});

function drainEmailQueue() {
  const poller = startPoller(sqs, stack.aws.region, {
    name: "email-sender",
    queueUrl: pipelines.queues.email.url,
    queueArn: pipelines.queues.email.arn,
    handler: sender,
  });
  pollers.push(poller);
}

async function deliveryRows(notificationId: string) {
  return Database.use().execute<{ address: string; status: string; error: string | null }>(
    sql`select address, status, error from deliveries where notification_id = ${notificationId} order by position`,
  );
}

describe("POST /v1/emails", () => {
  it("sends each recipient exactly one email of their own, HTML-escaped", async () => {
    const { secret } = await projectWithKey(["emails:send", "notifications:read"]);
    const domain = uniqueDomain();
    const accepted = await post(secret, {
      to: [
        {
          email: `ana@${domain}`,
          name: "Ana Pérez",
          variables: { name: "Ana", plan: "<b>Pro</b>" },
        },
        { email: `bo@${domain}`, variables: { name: "Bo & Co" } },
        `cy@${domain}`,
      ],
      from: "Billing <billing@pregon.test>",
      replyTo: "help@pregon.test",
      subject: "Hola {{ name }}",
      html: "<p>{{ name }}: {{ plan }}</p>",
      text: "{{ name }}: {{ plan }}",
      variables: { name: "there", plan: "Free" },
    });
    expect(accepted).toEqual({
      status: 202,
      body: {
        id: expect.any(String),
        channel: "email",
        status: "queued",
        recipients: { accepted: 3, suppressed: 0, unsubscribed: 0, duplicates: 0 },
      },
    });

    drainEmailQueue();
    const emails = await until(async () => {
      const found = await mailbox(domain);
      return found.length >= 3 && found;
    });
    await new Promise((done) => setTimeout(done, 300)); // nothing more arrives
    expect(await mailbox(domain)).toHaveLength(3);

    const byRecipient = Object.fromEntries(emails.map((email) => [email.destination.to[0], email]));
    expect(
      byRecipient[`=?UTF-8?B?${Buffer.from("Ana Pérez").toString("base64")}?= <ana@${domain}>`],
    ).toMatchObject({
      from: '"Billing" <billing@pregon.test>',
      replyTo: ["help@pregon.test"],
      subject: "Hola Ana",
      body: { html: "<p>Ana: &lt;b&gt;Pro&lt;/b&gt;</p>", text: "Ana: <b>Pro</b>" },
    });
    expect(byRecipient[`bo@${domain}`]).toMatchObject({
      subject: "Hola Bo & Co",
      body: { html: "<p>Bo &amp; Co: Free</p>", text: "Bo & Co: Free" },
    });
    expect(byRecipient[`cy@${domain}`]).toMatchObject({ subject: "Hola there" });

    const id = accepted.body.id;
    const status = await until(async () => {
      const { body } = await get(secret, `/v1/notifications/${id}`);
      return body.status === "completed" && body;
    });
    expect(status).toMatchObject({ channel: "email", counts: { sent: 3 } });
    const page = await get(secret, `/v1/notifications/${id}/deliveries?limit=2`);
    expect(page.body.deliveries.map((d: { to: string }) => d.to)).toEqual([
      `ana@${domain}`,
      `bo@${domain}`,
    ]);
    expect(page.body.deliveries[0]).toMatchObject({ status: "sent", attempts: 1 });
    expect(emails.map((e) => e.messageId)).toContain(page.body.deliveries[0].providerMessageId);
    const rest = await get(
      secret,
      `/v1/notifications/${id}/deliveries?limit=2&cursor=${page.body.nextCursor}`,
    );
    expect(rest.body).toMatchObject({ deliveries: [{ to: `cy@${domain}` }], nextCursor: null });
  });

  it("drops repeated recipients, any case, keeping the first", async () => {
    const { secret } = await projectWithKey(["emails:send"]);
    const domain = uniqueDomain();
    const accepted = await post(secret, {
      to: [
        { email: `Ana@${domain}`, variables: { n: "first" } },
        { email: `ana@${domain}`, variables: { n: "second" } },
        `bo@${domain}`,
        `BO@${domain.toUpperCase()}`,
      ],
      subject: "{{ n }}",
      text: "x",
      variables: { n: "shared" },
    });
    expect(accepted.body.recipients).toEqual({
      accepted: 2,
      suppressed: 0,
      unsubscribed: 0,
      duplicates: 2,
    });
    const [record] = await receiveAll(1);
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    const emails = await mailbox(domain);
    expect(emails.map((email) => email.subject).sort()).toEqual(["first", "shared"]);
    // The default sender's name is not ASCII: SES takes it RFC 2047-encoded.
    expect(emails[0]!.from).toBe(
      `=?UTF-8?B?${Buffer.from("Pregón").toString("base64")}?= <no-reply@pregon.test>`,
    );
    await acknowledge([record!]);
  });

  it("refuses bad input with 400 naming the field, before accepting anything", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const cases: Array<[unknown, RegExp, string]> = [
      [
        { to: ["ok@a.example", "not-an-address"], subject: "s", text: "t" },
        /^to\.1: /,
        "invalid_input",
      ],
      [{ to: [], subject: "s", text: "t" }, /^to: /, "invalid_input"],
      [{ to: ["a@a.example"], subject: "s" }, /^html: Give html, text or both/, "invalid_input"],
      [
        { to: ["a@a.example"], subject: "s", text: "t", from: "x@elsewhere.example" },
        /^from: x@elsewhere.example is not an allowed From address/,
        "sender_not_allowed",
      ],
      [{ to: ["a@a.example"], subject: "{% if %}", text: "t" }, /^subject: /, "invalid_template"],
      [
        {
          to: [
            "a@a.example",
            { email: "b@a.example", variables: { s: "x\r\nBcc: all@evil.example" } },
          ],
          subject: "Hi {{ s }}",
          text: "t",
        },
        /^to\.1: subject: renders with a line break/,
        "invalid_template",
      ],
      [
        {
          to: [{ email: "a@a.example", variables: { s: "fine" } }, "b@a.example", "c@a.example"],
          subject: "Hi {{ s }}",
          text: "t",
          variables: { s: "x\nBcc: all@evil.example" },
        },
        /^to\.1: subject: renders with a line break/,
        "invalid_template",
      ],
      [
        { to: [{ email: "a@a.example", name: "A\nB" }], subject: "s", text: "t" },
        /^to\.0\.name: must be one line/,
        "invalid_input",
      ],
      // A second mailbox smuggled into From or Reply-To.
      [
        {
          to: ["a@a.example"],
          subject: "s",
          text: "t",
          from: "ceo@bank.com, <no-reply@pregon.test>",
        },
        /^from: must be one email address/,
        "invalid_input",
      ],
      [
        {
          to: ["a@a.example"],
          subject: "s",
          text: "t",
          replyTo: "a@pregon.test, spy@evil.example",
        },
        /^replyTo: must be one email address/,
        "invalid_input",
      ],
      [
        {
          to: ["a@a.example"],
          subject: "s",
          text: "t",
          from: "CEO <ceo@bank.com> <x@pregon.test>",
        },
        /^from: must be one email address/,
        "invalid_input",
      ],
    ];
    for (const [body, message, reason] of cases) {
      const response = await post(secret, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.reason).toBe(reason);
      expect(response.body.message).toMatch(message);
    }
    const rows = await Database.use().execute<{ count: number }>(
      sql`select count(*)::int as count from notifications where project_id = ${project.id}`,
    );
    expect(rows[0]!.count).toBe(0);
    expect(
      (await post(secret, { to: Array(10_001).fill("a@a.example"), subject: "s", text: "t" }))
        .status,
    ).toBe(400);
  });

  it("refuses with 400 a send whose renders pass one request's budget, naming recipient and part", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const domain = uniqueDomain();
    // Each recipient has variables of its own, so each subject is rendered: in milliseconds, far
    // under a render's own limit; a thousand of them take seconds, far over the request's budget.
    const to = Array.from({ length: 1_000 }, (_, i) => ({
      email: `r${i}@${domain}`,
      variables: { i },
    }));
    const slow = await post(secret, {
      to,
      subject: "{% for x in xs %}{% endfor %}Hi",
      text: "t",
      variables: { xs: Array(20_000).fill(0) },
    });
    expect(slow.status).toBe(400);
    expect(slow.body.reason).toBe("invalid_template");
    expect(slow.body.message).toMatch(
      /^to\.\d+: subject: render (budget of 1,000 ms|time limit of 100 ms) exceeded$/,
    );
    // One render that would run for seconds stops at its own limit, at the first recipient.
    const runaway = await post(secret, {
      to: to.slice(0, 50),
      subject: "{% for i in (1..1000) %}{% for j in (1..2500) %}{% endfor %}{% endfor %}Hi",
      text: "t",
    });
    expect(runaway.status).toBe(400);
    expect(runaway.body.message).toMatch(/^to\.0: subject: render (time|memory) limit of /);
    const rows = await Database.use().execute<{ count: number }>(
      sql`select count(*)::int as count from notifications where project_id = ${project.id}`,
    );
    expect(rows[0]!.count).toBe(0);
  });

  it("needs the emails:send scope, and shows notifications to their own project only", async () => {
    const reader = await projectWithKey(["notifications:read"]);
    expect(
      (await post(reader.secret, { to: ["a@a.example"], subject: "s", text: "t" })).status,
    ).toBe(403);

    const owner = await projectWithKey(["emails:send", "notifications:read"]);
    const { body } = await post(owner.secret, {
      to: [`a@${uniqueDomain()}`],
      subject: "s",
      text: "t",
    });
    expect((await get(owner.secret, `/v1/notifications/${body.id}`)).status).toBe(200);
    expect((await get(reader.secret, `/v1/notifications/${body.id}`)).body.reason).toBe(
      "not_found",
    );
    expect((await get(reader.secret, `/v1/notifications/${body.id}/deliveries`)).status).toBe(404);
    await acknowledge(await receiveAll(1));
  });
});

describe("the email sender", () => {
  it("sends once when the same queue message is delivered twice, even at once", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const to = [`a@${domain}`, `b@${domain}`, `c@${domain}`];
    await as(() => Email.send({ to, subject: "s", text: "t" }, settings.email));
    const [record] = await receiveAll(1);
    const results = await Promise.all([sender(event(record!)), sender(event(record!))]);
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    expect((await mailbox(domain)).map((e) => e.destination.to[0]).sort()).toEqual(to);
    await acknowledge([record!]);
  });

  it("fails the one delivery whose own variables make its render pass the limit, once", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    // The API renders the first recipient's message only: the second's is the sender's to stop.
    const accepted = await as(() =>
      Email.send(
        {
          to: [`a@${domain}`, { email: `b@${domain}`, variables: { xs: Array(1_000).fill(0) } }],
          subject: "s",
          html: "{% for x in xs %}{% for y in xs %}{% endfor %}{% endfor %}<p>ok</p>",
        },
        settings.email,
      ),
    );
    const [record] = await receiveAll(1);
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    await acknowledge([record!]);
    const rows = await deliveryRows(accepted.id);
    expect(rows[0]).toEqual({ address: `a@${domain}`, status: "sent", error: null });
    expect(rows[1]!.status).toBe("failed");
    expect(rows[1]!.error).toMatch(
      /^html: render (time limit of 100 ms|budget of 1,000 ms) exceeded$/,
    );
    expect((await mailbox(domain)).map((e) => e.destination.to[0])).toEqual([`a@${domain}`]);
  });

  it("sends a delivery whose render a busy machine held up past the time limit", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const accepted = await as(() =>
      Email.send({ to: [`a@${domain}`], subject: "Hi {{ n }}", text: "t" }, settings.email),
    );
    const [record] = await receiveAll(1);
    // The sender's process waits 150 ms for a core in the middle of the render.
    stallRenderClock(150);
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    vi.restoreAllMocks();
    await acknowledge([record!]);
    expect(await deliveryRows(accepted.id)).toEqual([
      { address: `a@${domain}`, status: "sent", error: null },
    ]);
    expect(await mailbox(domain)).toHaveLength(1);
  });

  it("publishes the facts (accepted, sent, failed, completed) to the events topic, versioned, ids only", async () => {
    const { project, key, as } = await projectWithKey();
    const domain = uniqueDomain();
    const bounced = `x@${domain}`;
    const picky = createEmailSender({
      sendRate: 5000,
      mailer: {
        send: (email) =>
          email.to === bounced
            ? Promise.reject(new Email.SendError("MessageRejected", true))
            : mailer.send(email),
      },
    });
    const accepted = await as(() =>
      Email.send({ to: [`a@${domain}`, bounced], subject: "s", text: "t" }, settings.email),
    );
    const [record] = await receiveAll(1);
    await picky(event(record!));
    await acknowledge([record!]);

    const facts: Fact.Envelope[] = [];
    await until(async () => {
      for (const fact of await receive("audit")) {
        expect(fact.body).not.toContain("@");
        // Every fact has the one envelope, whichever way it was written (JS or SQL).
        const body = Fact.Envelope.strict().parse(JSON.parse(fact.body));
        if (body.data.notificationId === accepted.id) facts.push(body);
      }
      return facts.length >= 4;
    });
    const [deliveryA, deliveryX] = await deliveryIdsOf(accepted.id);
    for (const fact of facts) {
      expect(fact.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(fact.occurredAt)).not.toBeNaN();
    }
    const sender = { type: "system", reason: "sender" };
    const delivery = (id: string, address: string, status: string) => ({
      deliveryId: id,
      notificationId: accepted.id,
      channel: "email",
      recipientHmac: Notification.recipientHmac(project.id, "email", address),
      status,
    });
    expect(facts.map(({ id: _id, occurredAt: _at, ...fact }) => fact)).toEqual(
      expect.arrayContaining([
        {
          type: "notification.accepted",
          version: 1,
          projectId: project.id,
          // The actor: the key and the request the send was made with.
          actor: { type: "key", keyId: key.id, requestId: expect.any(String) },
          subject: accepted.id,
          data: {
            notificationId: accepted.id,
            channel: "email",
            accepted: 2,
            suppressed: 0,
            unsubscribed: 0,
            duplicates: 0,
          },
        },
        {
          type: "delivery.sent",
          version: 1,
          projectId: project.id,
          actor: sender,
          subject: deliveryA,
          data: delivery(deliveryA!, `a@${domain}`, "sent"),
        },
        {
          type: "delivery.failed",
          version: 1,
          projectId: project.id,
          actor: sender,
          subject: deliveryX,
          data: delivery(deliveryX!, `x@${domain}`, "failed"),
        },
        {
          type: "notification.completed",
          version: 1,
          projectId: project.id,
          actor: sender,
          subject: accepted.id,
          data: { notificationId: accepted.id, channel: "email", counts: { sent: 1, failed: 1 } },
        },
      ]),
    );
    expect(facts).toHaveLength(4);
  });

  it("leaves for another receive the records it has no time left to send", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    await as(() => Email.send({ to: [`a@${domain}`], subject: "s", text: "t" }, settings.email));
    const [record] = await receiveAll(1);
    const slow = createEmailSender({ mailer, sendRate: 10 }); // 50 sends need 5 s
    const context = (remainingMs: number) =>
      ({ getRemainingTimeInMillis: () => remainingMs }) as Context;
    expect(await slow(event(record!), context(7_000))).toEqual({
      batchItemFailures: [{ itemIdentifier: record!.messageId }],
    });
    expect(await mailbox(domain)).toEqual([]);
    expect(await slow(event(record!), context(9_000))).toEqual({ batchItemFailures: [] });
    expect(await mailbox(domain)).toHaveLength(1);
    await acknowledge([record!]);
  });

  it("loses nothing when publishing fails after the commit: the sweeper publishes", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const clock = Clock.manual(new Date());
    restoreClock.push(Clock.use(clock));
    Outbox.configure({
      publish: async () => {
        throw new Error("SNS is down");
      },
    });
    const accepted = await as(() =>
      Email.send({ to: [`a@${domain}`], subject: "s", text: "t" }, settings.email),
    );
    expect(await receive()).toEqual([]);

    Outbox.configure(snsPublisher(new SNSClient(stack.aws), pipelines.topics));
    const sweep = createSweeper();
    expect((await sweep()).republished).toBe(0); // too recent: maybe still being published
    clock.advance(61_000);
    expect((await sweep()).republished).toBe(2); // the email message and the accepted fact
    const [record] = await receiveAll(1);
    expect(JSON.parse(record!.body).deliveryIds).toHaveLength(1);
    await sender(event(record!));
    expect(await mailbox(domain)).toHaveLength(1);
    expect((await deliveryRows(accepted.id))[0]!.status).toBe("sent");
    expect((await sweep()).republished).toBe(0);
    await acknowledge([record!]);
  });

  /** One email to five recipients, accepted on a manual clock, and its queue message. */
  async function fiveQueued() {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const to = ["a", "b", "c", "d", "e"].map((name) => `${name}@${domain}`);
    const clock = Clock.manual(new Date());
    restoreClock.push(Clock.use(clock));
    const accepted = await as(() => Email.send({ to, subject: "s", text: "t" }, settings.email));
    const [record] = await receiveAll(1);
    return { domain, to, clock, accepted, record };
  }

  it("sends a crashed sender's leased deliveries after the lease, each exactly once", async () => {
    const { domain, to, clock, accepted, record } = await fiveQueued();

    // Two sends go through, then the process freezes mid-batch (and is never heard from again).
    let sends = 0;
    const crashing = createEmailSender({
      sendRate: 5000,
      mailer: { send: (email) => (++sends <= 2 ? mailer.send(email) : new Promise(() => {})) },
    });
    void crashing(event(record!));
    await until(async () => (await mailbox(domain)).length === 2);
    await until(async () => sends === 5 || undefined);
    // The two sends' statuses are written too (under load they can trail the mailbox).
    await until(
      async () =>
        (await deliveryRows(accepted.id)).filter((row) => row.status === "sent").length === 2 ||
        undefined,
    );

    // The message comes back before the lease ends: nothing is sent twice.
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    expect(await mailbox(domain)).toHaveLength(2);
    // After the lease, the next receive sends the rest.
    clock.advance(leaseMs + 1);
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    const received = (await mailbox(domain)).map((e) => e.destination.to[0]).sort();
    expect(received).toEqual(to);
    const rows = await deliveryRows(accepted.id);
    expect(rows.map((row) => row.status)).toEqual(Array(5).fill("sent"));
    await acknowledge([record!]);
  });

  it("after a crash between SES's answers and their `sent` write, sends only those again, once", async () => {
    const { domain, to, clock, accepted, record } = await fiveQueued();

    // SES accepts all five; the process dies as the last three answers come back.
    let answered = 0;
    const crashing = createEmailSender({
      sendRate: 5000,
      mailer: {
        async send(email) {
          const sent = await mailer.send(email);
          return ++answered <= 2 ? sent : new Promise(() => {});
        },
      },
    });
    void crashing(event(record!));
    await until(async () => answered === 5 || undefined);
    const statuses = async () => (await deliveryRows(accepted.id)).map((row) => row.status).sort();
    await until(async () => (await statuses()).filter((s) => s === "sent").length === 2);
    expect(await statuses()).toEqual(["sending", "sending", "sending", "sent", "sent"]);

    // Received again within the lease: nothing is sent.
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    expect(await mailbox(domain)).toHaveLength(5);
    // After it, the three whose `sent` was never written go again (the documented duplicate).
    clock.advance(leaseMs + 1);
    expect(await sender(event(record!))).toEqual({ batchItemFailures: [] });
    const received = (await mailbox(domain)).map((e) => e.destination.to[0]);
    expect(received).toHaveLength(8);
    const twice = to.filter((address) => received.filter((r) => r === address).length === 2);
    expect(twice).toHaveLength(3);
    expect(new Set(received)).toEqual(new Set(to));
    expect(await statuses()).toEqual(Array(5).fill("sent"));
    await acknowledge([record!]);
  });

  it("fails only the record whose recipient hit an SES error", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const rejected = `rejected@${domain}`;
    const throttled = `throttled@${domain}`;
    let throttling = true;
    const flaky = createEmailSender({
      sendRate: 5000,
      mailer: {
        async send(email) {
          if (email.to === rejected)
            throw new Email.SendError("MessageRejected: bad address", true);
          if (email.to === throttled && throttling)
            throw new Email.SendError("TooManyRequests", false);
          return mailer.send(email);
        },
      },
    });
    const first = await as(() =>
      Email.send({ to: [`ok@${domain}`, rejected], subject: "s", text: "t" }, settings.email),
    );
    const second = await as(() =>
      Email.send({ to: [throttled], subject: "s", text: "t" }, settings.email),
    );
    const records = await receiveAll(2);
    const [throttledId] = await deliveryIdsOf(second.id);
    const secondRecord = records.find((record) => record.body.includes(throttledId!))!;

    expect(await flaky(event(...records))).toEqual({
      batchItemFailures: [{ itemIdentifier: secondRecord.messageId }],
    });
    expect(await deliveryRows(first.id)).toEqual([
      { address: `ok@${domain}`, status: "sent", error: null },
      { address: rejected, status: "failed", error: "MessageRejected: bad address" },
    ]);
    expect((await deliveryRows(second.id))[0]!.status).toBe("queued");
    // The next receive of that record succeeds.
    throttling = false;
    expect(await flaky(event(secondRecord))).toEqual({ batchItemFailures: [] });
    expect((await mailbox(domain)).map((e) => e.destination.to[0]).sort()).toEqual([
      `ok@${domain}`,
      throttled,
    ]);
    await acknowledge(records);
  });

  it("marks a poison message's deliveries failed on its last receive, then it moves to the DLQ", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const accepted = await as(() =>
      Email.send({ to: [`a@${domain}`, `b@${domain}`], subject: "s", text: "t" }, settings.email),
    );
    const receives: number[] = [];
    const alwaysDown = createEmailSender({
      sendRate: 5000,
      mailer: {
        async send() {
          throw new Email.SendError("ServiceUnavailable", false);
        },
      },
    });
    pollers.push(
      startPoller(sqs, stack.aws.region, {
        name: "email-sender",
        queueUrl: pipelines.queues.email.url,
        queueArn: pipelines.queues.email.arn,
        handler: async (e) => {
          receives.push(Number(e.Records[0]!.attributes.ApproximateReceiveCount));
          return alwaysDown(e);
        },
      }),
    );
    const parked = await until(async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: pipelines.queues.email.dlqUrl, WaitTimeSeconds: 1 }),
      );
      return Messages.length > 0 && Messages;
    }, 30_000);
    expect(JSON.parse(parked[0]!.Body!).deliveryIds).toHaveLength(2);
    // A receive may come twice if a loaded machine holds it past its visibility timeout.
    expect([...new Set(receives)]).toEqual([1, 2, 3, 4, 5]);
    expect(await deliveryRows(accepted.id)).toEqual([
      { address: `a@${domain}`, status: "failed", error: `${Delivery.gaveUp}ServiceUnavailable` },
      { address: `b@${domain}`, status: "failed", error: `${Delivery.gaveUp}ServiceUnavailable` },
    ]);
  }, 40_000);

  it("accepts 10,000 recipients in one request and every one reaches the mailbox", async () => {
    const { secret } = await projectWithKey(["emails:send", "notifications:read"]);
    const domain = uniqueDomain();
    const to = Array.from({ length: 10_000 }, (_, i) => ({
      email: `r${i}@${domain}`,
      variables: { i },
    }));
    const accepted = await post(secret, { to, subject: "Hello {{ i }}", text: "Number {{ i }}" });
    expect(accepted.status).toBe(202);
    expect(accepted.body.recipients).toEqual({
      accepted: 10_000,
      suppressed: 0,
      unsubscribed: 0,
      duplicates: 0,
    });

    drainEmailQueue();
    const status = await until(async () => {
      const { body } = await get(secret, `/v1/notifications/${accepted.body.id}`);
      return body.status === "completed" && body;
    }, 100_000);
    expect(status.counts).toEqual({ sent: 10_000 });
    const emails = await mailbox(domain);
    expect(emails).toHaveLength(10_000);
    expect(new Set(emails.map((e) => e.destination.to[0])).size).toBe(10_000);
    const r42 = emails.find((e) => e.destination.to[0] === `r42@${domain}`);
    expect(r42).toMatchObject({ subject: "Hello 42", body: { text: "Number 42" } });
  }, 120_000);
});

async function deliveryIdsOf(notificationId: string) {
  const rows = await Database.use().execute<{ id: string }>(
    sql`select id from deliveries where notification_id = ${notificationId} order by position`,
  );
  return rows.map((row) => row.id);
}
