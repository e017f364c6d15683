import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { createApp } from "@pregon/api";
import { Actor, ApiKey, Database, Webhook } from "@pregon/core";
import { createAuditHandler } from "@pregon/functions/handlers/audit";
import { createWebhookSender } from "@pregon/functions/handlers/webhooks";
import * as Dlq from "@pregon/local/dlq";
import { type Poller, startPoller } from "@pregon/local/poller";
import { webhookAttempts } from "@pregon/pipelines";
import { sql } from "drizzle-orm";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sqs } from "./support/email";
import { callApp, projectWithKey, settings, until } from "./support/fixtures";
import { pipelines, stack } from "./support/setup";

const app = createApp(settings);
const encryptionSecret = "test-pepper-0123456789abcdefghijklmnopqrstuv";
/** Retries at once: the schedule is the queue's receives, without the waits. */
const immediate = { firstDelaySeconds: 0, factor: 1, maxDelaySeconds: 0, jitter: 0 };
const local = { encryptionSecret, allowLoopback: true, timeoutMs: 2_000, retry: immediate };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on loopback: each path answers with the statuses its test set, then 204. */
let server: Server;
let base: string;
const received: Received[] = [];
const answers = new Map<string, number[]>();
beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      const path = request.url ?? "/";
      received.push({ path, headers: request.headers, body });
      const status = answers.get(path)?.shift() ?? 204;
      response.writeHead(status).end(status === 204 ? undefined : "receiver says no ".repeat(100));
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** The audit and webhooks consumers, polling this file's queues as the local stack does. */
let pollers: Poller[] = [];
beforeAll(() => {
  pollers = [
    startPoller(sqs, stack.aws.region, {
      name: "audit",
      queueUrl: pipelines.queues.audit.url,
      queueArn: pipelines.queues.audit.arn,
      handler: createAuditHandler(),
    }),
    startPoller(sqs, stack.aws.region, {
      name: "webhooks",
      queueUrl: pipelines.queues.webhooks.url,
      queueArn: pipelines.queues.webhooks.arn,
      handler: createWebhookSender({ sqs, queueUrl: pipelines.queues.webhooks.url }),
    }),
  ];
});
afterAll(async () => {
  await Promise.all(pollers.map((poller) => poller.stop()));
  Webhook.configure({ encryptionSecret });
});

beforeEach(() => Webhook.configure(local));

let paths = 0;
/** A path of the receiver no other test uses, answering `statuses` first. */
function receiverPath(statuses: number[] = []) {
  const path = `/hook-${++paths}`;
  answers.set(path, [...statuses]);
  return path;
}
const at = (path: string) => received.filter((r) => r.path === path);

/** A project with an endpoint at `path`, made through the REST API. */
async function endpointAt(path: string, eventTypes = ["key.revoked"]) {
  const caller = await projectWithKey();
  const created = await callApp(app, caller.secret, "POST", "/v1/webhooks", {
    url: `${base}${path}`,
    description: "test receiver",
    eventTypes,
  });
  expect(created.status).toBe(201);
  return { ...caller, endpoint: created.body as Webhook.EndpointWithSecret };
}

/**
 * Makes a `key.revoked` fact in the caller's project: the event the endpoints here get. (Not
 * `key.created`: the project's own first key makes one, which the audit consumer may hand over
 * after the endpoint exists.)
 */
const makeFact = (as: <T>(work: () => T) => T) =>
  as(async () => {
    const key = await ApiKey.create({ name: "made for a webhook", scopes: ["emails:send"] });
    return ApiKey.revoke(key.id);
  });

const headersOf = (r: Received) => ({
  "webhook-id": String(r.headers["webhook-id"]),
  "webhook-timestamp": String(r.headers["webhook-timestamp"]),
  "webhook-signature": String(r.headers["webhook-signature"]),
});

describe("webhook endpoints", () => {
  it("are created with a secret shown once, listed, changed and deleted per project", async () => {
    const { secret, endpoint } = await endpointAt(receiverPath());
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(endpoint).toMatchObject({ status: "enabled", eventTypes: ["key.revoked"] });

    const listed = await callApp(app, secret, "GET", "/v1/webhooks");
    expect(listed.body.endpoints).toHaveLength(1);
    expect(listed.body.endpoints[0]).not.toHaveProperty("secret");
    expect(JSON.stringify(listed.body)).not.toContain(endpoint.secret);

    const changed = await callApp(app, secret, "PATCH", `/v1/webhooks/${endpoint.id}`, {
      eventTypes: ["delivery.bounced", "otp.locked"],
      status: "disabled",
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      eventTypes: ["delivery.bounced", "otp.locked"],
      status: "disabled",
      disabledReason: "by_caller",
    });

    // Another project's key sees none of it.
    const stranger = await projectWithKey();
    expect((await callApp(app, stranger.secret, "GET", `/v1/webhooks/${endpoint.id}`)).status).toBe(
      404,
    );

    // At rest the secret is not in clear.
    const [row] = await Database.use().execute<{ secret: string }>(
      sql`select secret from webhook_endpoints where id = ${endpoint.id}`,
    );
    expect(row!.secret).not.toContain(endpoint.secret.slice("whsec_".length, 20));

    expect((await callApp(app, secret, "DELETE", `/v1/webhooks/${endpoint.id}`)).status).toBe(200);
    expect((await callApp(app, secret, "GET", `/v1/webhooks/${endpoint.id}`)).status).toBe(404);
  });

  it("refuses bad input with a 400 that says what was wrong", async () => {
    const { secret } = await projectWithKey();
    const bad = await callApp(app, secret, "POST", "/v1/webhooks", {
      url: "ftp://example.com/x",
      eventTypes: ["Not A Type"],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.issues)).toContain("eventTypes");
  });
});

describe("webhook delivery", () => {
  it("a receiver that fails twice, then succeeds, gets one webhook-id, signed, three attempts recorded", async () => {
    const path = receiverPath([500, 503]);
    const { secret, as, endpoint } = await endpointAt(path);
    const key = await makeFact(as);

    await until(async () => at(path).length >= 3 && (await attemptsOf(secret, endpoint.id, 3)));
    const requests = at(path);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(requests[0]!.headers["content-length"]).toBe(
      String(Buffer.byteLength(requests[0]!.body)),
    );
    const verifier = new StandardWebhook(endpoint.secret);
    for (const request of requests) {
      const payload = verifier.verify(request.body, headersOf(request)) as Record<string, unknown>;
      expect(payload).toMatchObject({
        type: "key.revoked",
        version: 1,
        data: { keyId: key.id },
        projectId: endpoint.projectId,
      });
    }
    // A signature of another secret does not verify.
    expect(() =>
      new StandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(
        requests[0]!.body,
        headersOf(requests[0]!),
      ),
    ).toThrow();

    const { attempts } = await attemptsOf(secret, endpoint.id, 3);
    expect(attempts.map((a) => [a.status, a.responseStatus])).toEqual([
      ["succeeded", 204],
      ["failed", 503],
      ["failed", 500],
    ]);
    // A short excerpt of the answer, never the whole of it.
    expect(attempts[1]!.responseExcerpt!.length).toBeLessThanOrEqual(256);
    expect(attempts[1]!.responseExcerpt).toContain("receiver says no");
    expect(attempts.every((a) => a.latencyMs >= 0 && a.messageId === attempts[0]!.messageId)).toBe(
      true,
    );
    expect(String(requests[0]!.headers["webhook-id"])).toBe(`msg_${attempts[0]!.messageId}`);
    // A success forgets the failures before it.
    const got = await callApp(app, secret, "GET", `/v1/webhooks/${endpoint.id}`);
    expect(got.body.failingSince).toBeNull();

    // Replayed by hand: the same message, the same webhook-id, a manual attempt.
    const replayed = await callApp(
      app,
      secret,
      "POST",
      `/v1/webhooks/${endpoint.id}/messages/${attempts[0]!.messageId}/replay`,
    );
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ trigger: "manual", status: "succeeded" });
    expect(at(path)).toHaveLength(4);
    expect(at(path)[3]!.headers["webhook-id"]).toBe(requests[0]!.headers["webhook-id"]);
  });

  it("a dead receiver's message ends in the DLQ, and the endpoint is disabled by a fact", async () => {
    Webhook.configure({ ...local, disableAfterMs: 0 });
    const path = receiverPath(Array(webhookAttempts + 5).fill(503));
    const { secret, as, endpoint } = await endpointAt(path);
    await makeFact(as);

    // Parked in the DLQ (counted, not received: the redrive below takes it from there).
    await until(async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: pipelines.queues.webhooks.dlqUrl,
          AttributeNames: ["ApproximateNumberOfMessages"],
        }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages) === 1;
    }, 60_000);
    expect(at(path)).toHaveLength(webhookAttempts);

    const got = await callApp(app, secret, "GET", `/v1/webhooks/${endpoint.id}`);
    expect(got.body).toMatchObject({ status: "disabled", disabledReason: "failing" });
    const facts = await Database.use().execute<{ body: string }>(
      sql`select body from outbox where body like ${"%webhook.disabled%"}`,
    );
    const disabled = facts.map((f) => JSON.parse(f.body));
    expect(disabled).toContainEqual(
      expect.objectContaining({
        type: "webhook.disabled",
        data: { endpointId: endpoint.id, disabledReason: "failing" },
      }),
    );
    const { attempts } = await attemptsOf(secret, endpoint.id, webhookAttempts);
    expect(attempts.every((a) => a.status === "failed")).toBe(true);

    // The receiver is back: enabled again, the parked message redriven is delivered.
    answers.set(path, []);
    const enabled = await callApp(app, secret, "PATCH", `/v1/webhooks/${endpoint.id}`, {
      status: "enabled",
    });
    expect(enabled.body).toMatchObject({ status: "enabled", disabledReason: null });
    const { queues } = pipelines;
    expect(
      await Dlq.redrive(sqs, "webhooks", {
        queueUrl: queues.webhooks.url,
        dlqUrl: queues.webhooks.dlqUrl,
      }),
    ).toEqual({ moved: 1, requeued: 1 });
    await until(() => attemptsOf(secret, endpoint.id, webhookAttempts + 1));
    const [last] = (await attemptsOf(secret, endpoint.id, webhookAttempts + 1)).attempts;
    expect(last).toMatchObject({ status: "succeeded", responseStatus: 204 });
    expect(new Set(at(path).map((r) => r.headers["webhook-id"])).size).toBe(1);
  }, 90_000);

  it("during a rotation both secrets sign, and both verify", async () => {
    const path = receiverPath();
    const { secret, as, endpoint } = await endpointAt(path);
    const rotated = await callApp(app, secret, "POST", `/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(endpoint.secret);

    await makeFact(as);
    await until(async () => at(path).length >= 1);
    const [request] = at(path);
    expect(String(request!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    for (const key of [endpoint.secret, fresh]) {
      expect(new StandardWebhook(key).verify(request!.body, headersOf(request!))).toMatchObject({
        type: "key.revoked",
      });
    }
  });

  it("delivers only the fact types an endpoint asked for", async () => {
    const wanted = receiverPath();
    const other = receiverPath();
    const { as, project } = await endpointAt(wanted);
    await Actor.provide({ type: "system", reason: "cli", projectId: project.id }, () =>
      Webhook.create({ url: `${base}${other}`, eventTypes: ["otp.locked"] }),
    );
    await makeFact(as);
    await until(async () => at(wanted).length >= 1);
    // The audit consumer has handled the fact: the other endpoint got nothing from it.
    await new Promise((done) => setTimeout(done, 500));
    expect(at(other).filter((r) => r.body.includes('"key.revoked"'))).toHaveLength(0);
  });
});

/** The endpoint's attempts once there are `count` of them. */
async function attemptsOf(secret: string, id: string, count: number) {
  const { body } = await callApp(app, secret, "GET", `/v1/webhooks/${id}/attempts`);
  const page = body as { attempts: Webhook.Attempt[] };
  return page.attempts.length >= count ? page : (undefined as never);
}

describe("webhook URLs (the local setting off)", () => {
  beforeEach(() => Webhook.configure({ ...local, allowLoopback: false }));

  it.each([
    ["http://hooks.example.com/x", /HTTPS/],
    ["https://127.0.0.1/x", /loopback/],
    ["https://[::1]/x", /loopback/],
    ["https://localhost/x", /loopback/],
    ["https://169.254.169.254/latest/meta-data/", /linkLocal/],
    ["https://10.0.0.1/x", /private/],
    ["https://[::ffff:192.168.1.1]/x", /private/],
    ["https://user:pass@hooks.example.com/x", /credentials/],
  ])("refuses %s when it is given", async (url, why) => {
    const { secret } = await projectWithKey();
    const refused = await callApp(app, secret, "POST", "/v1/webhooks", { url });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(why);
  });

  it("checks the address again at send time, and sends nothing to a refused one", async () => {
    const path = receiverPath();
    Webhook.configure(local);
    const { secret, as, endpoint } = await endpointAt(path);
    // The setting goes off after the endpoint was made (as a name could resolve elsewhere later).
    Webhook.configure({ ...local, allowLoopback: false });
    await makeFact(as);
    const { attempts } = await until(() => attemptsOf(secret, endpoint.id, 1));
    expect(attempts[0]).toMatchObject({ status: "failed", responseStatus: null });
    expect(attempts[0]!.error).toMatch(/HTTPS|loopback/);
    expect(at(path)).toHaveLength(0);
  });

  it("never allows link-local or metadata addresses, even with the local setting on", async () => {
    Webhook.configure(local);
    const { secret } = await projectWithKey();
    for (const url of ["http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://10.1.2.3/"]) {
      const refused = await callApp(app, secret, "POST", "/v1/webhooks", { url });
      expect(refused.status, url).toBe(400);
    }
  });
});

describe("the retry schedule", () => {
  it("backs off exponentially, with jitter, over more than a day by default", () => {
    const retry = { firstDelaySeconds: 5, factor: 4, maxDelaySeconds: 36_000, jitter: 0.2 };
    const waits = Array.from({ length: webhookAttempts - 1 }, (_, i) =>
      Webhook.retryDelaySeconds(i + 1, retry),
    );
    expect(waits[0]).toBeGreaterThanOrEqual(5);
    expect(waits[1]).toBeGreaterThanOrEqual(20);
    expect(waits.every((wait) => wait <= 12 * 3600)).toBe(true);
    expect(waits.reduce((sum, wait) => sum + wait, 0)).toBeGreaterThan(24 * 3600);
    const draws = new Set(Array.from({ length: 20 }, () => Webhook.retryDelaySeconds(3, retry)));
    expect(draws.size).toBeGreaterThan(1);
  });
});
