import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { appRouter, createApp } from "@pregon/api";
import { Actor, Database, Issuer, Webhook } from "@pregon/core";
import { TRPCClientError } from "@trpc/client";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectWithKey, settings } from "../../../test/support/fixtures";
import { startIssuer } from "../../../test/support/issuer";
import { createPregonClient, PregonError, type RouterInputs, sendPaths } from "./index";
import { createPregonRestClient } from "./rest";

let server: Server;
let url: string;
beforeAll(async () => {
  server = serve({ fetch: createApp(settings).fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((ready) => server.once("listening", ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((done) => server.close(done)));

const email: RouterInputs["emails"]["send"] = {
  from: "hola@pregon.test",
  to: ["ana@example.com"],
  subject: "Hola",
  text: "Hola",
};

/** The ids of a project's notifications, oldest first. */
async function notificationIds(projectId: string) {
  const rows = await Database.use().execute<{ id: string }>(
    sql`select id from notifications where project_id = ${projectId} order by created_at`,
  );
  return rows.map((row) => row.id);
}

/** A fetch that records each request's Idempotency-Key and can fail on demand. */
function recordingFetch(fail: (attempt: number, response: Response) => Response | Error) {
  const keys: (string | null)[] = [];
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit) => {
    keys.push(new Headers(init?.headers).get("idempotency-key"));
    const outcome = fail(keys.length, await fetch(input, init));
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { keys, fetch: fetcher as typeof fetch };
}

describe("@pregon/sdk", () => {
  it("calls procedures with the key as a bearer token, typed end to end", async () => {
    const { project, secret } = await projectWithKey(["admin"]);
    const pregon = createPregonClient({ url, apiKey: secret });
    const me = await pregon.me.get.query();
    expect(me.project.id).toBe(project.id);
    const created = await pregon.keys.create.mutate({ name: "sdk", scopes: ["sms:send"] });
    expect(created.key).toMatch(/^prg_/);
    const again = createPregonClient({ url, apiKey: created.key });
    expect((await again.me.get.query()).scopes).toEqual(["sms:send"]);
  });

  it("manages webhook endpoints: pregon.webhooks.* over tRPC, the same over REST", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const pregon = createPregonClient({ url, apiKey: secret });
    Webhook.configure({
      encryptionSecret: "sdk-test-secret-0123456789abcdef",
      allowLoopback: true,
    });
    try {
      const created = await pregon.webhooks.create.mutate({
        url: "http://127.0.0.1:9/hook",
        eventTypes: ["delivery.bounced"],
      });
      expect(created.secret).toMatch(/^whsec_/);
      const rotated = await pregon.webhooks.rotateSecret.mutate({ id: created.id });
      expect(rotated.secret).not.toBe(created.secret);
      const disabled = await pregon.webhooks.update.mutate({ id: created.id, status: "disabled" });
      expect(disabled.status).toBe("disabled");
      const rest = createPregonRestClient({ url, apiKey: secret });
      const { data } = await rest.GET("/v1/webhooks/{id}/attempts", {
        params: { path: { id: created.id } },
      });
      expect(data).toEqual({ attempts: [], nextCursor: null });
      expect((await pregon.webhooks.list.query()).endpoints.map((e) => e.id)).toEqual([created.id]);
      await pregon.webhooks.remove.mutate({ id: created.id });
      expect((await pregon.webhooks.list.query()).endpoints).toEqual([]);
    } finally {
      Webhook.configure({ encryptionSecret: "test-pepper-0123456789abcdefghijklmnopqrstuv" });
    }
  });

  it("calls with a token, or with one getToken() returns before each request (tRPC and REST)", async () => {
    Issuer.configure({ allowLoopback: true });
    const issuer = await startIssuer();
    const { project } = await projectWithKey(["admin"]);
    await Actor.provide({ type: "system", reason: "cli", projectId: project.id }, () =>
      Issuer.create({ issuer: issuer.url, audience: issuer.audience, scopeClaim: "scope" }),
    );
    const token = await issuer.sign({ sub: "sdk-test" });
    const withToken = createPregonClient({ url, token });
    expect(await withToken.me.get.query()).toMatchObject({
      project: { id: project.id },
      token: { issuer: issuer.url, subject: "sdk-test" },
    });
    const asked: string[] = [];
    const getToken = async () => {
      const fresh = await issuer.sign({ sub: `call-${asked.length}` });
      asked.push(fresh);
      return fresh;
    };
    const pregon = createPregonClient({ url, getToken });
    expect((await pregon.me.get.query()).token?.subject).toBe("call-0");
    expect((await pregon.me.get.query()).token?.subject).toBe("call-1");
    const rest = createPregonRestClient({ url, getToken });
    const { data } = await rest.GET("/v1/me");
    expect(data?.token?.subject).toBe("call-2");
    expect(asked).toHaveLength(3);
  });

  it("throws PregonError with status, code, reason and issues", async () => {
    const { secret } = await projectWithKey(["emails:send"]);
    const pregon = createPregonClient({ url, apiKey: secret });

    const forbidden = await pregon.keys.list.query().catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(PregonError);
    expect(forbidden).toBeInstanceOf(TRPCClientError);
    expect(forbidden).toMatchObject({
      name: "PregonError",
      status: 403,
      code: "FORBIDDEN",
      reason: "missing_scope",
      issues: undefined,
    });

    const invalid = (await pregon.emails.send
      .mutate({ ...email, to: ["not an address"] })
      .catch((e: unknown) => e)) as PregonError;
    expect(invalid).toMatchObject({ status: 400, code: "BAD_REQUEST", reason: "invalid_input" });
    expect(invalid.issues?.[0]?.path).toEqual(["to", 0]);
    expect(invalid.message).toMatch(/^to\.0: /);
  });

  it("says NETWORK_ERROR when no answer came, and does not retry a mutation that is not a send", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const failing = recordingFetch(() => new TypeError("fetch failed"));
    const pregon = createPregonClient({ url, apiKey: secret, fetch: failing.fetch });
    const error = await pregon.keys.create
      .mutate({ name: "x", scopes: ["sms:send"] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "PregonError", code: "NETWORK_ERROR", status: undefined });
    expect(failing.keys).toEqual([null]);
  });

  it("gives each send its own Idempotency-Key, or the caller's", async () => {
    const { project, secret } = await projectWithKey(["emails:send"]);
    const recording = recordingFetch((_, response) => response);
    const pregon = createPregonClient({ url, apiKey: secret, fetch: recording.fetch });

    const first = await pregon.emails.send.mutate(email);
    const second = await pregon.emails.send.mutate(email);
    expect(first.id).not.toBe(second.id);
    const [a, b] = recording.keys;
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);

    const context = { idempotencyKey: "order-1" };
    const mine = await pregon.emails.send.mutate(email, { context });
    const replay = await pregon.emails.send.mutate(email, { context });
    expect(replay.id).toBe(mine.id);
    expect(recording.keys.slice(2)).toEqual(["order-1", "order-1"]);
    expect(await notificationIds(project.id)).toHaveLength(3);
  });

  it("retries a send whose answer was lost with the same key: one notification", async () => {
    const { project, secret } = await projectWithKey(["emails:send"]);
    // The server accepts the first request, then the connection drops before the answer arrives.
    const lossy = recordingFetch((attempt, response) =>
      attempt === 1 ? new TypeError("fetch failed") : response,
    );
    const pregon = createPregonClient({ url, apiKey: secret, fetch: lossy.fetch });
    const sent = await pregon.emails.send.mutate(email);
    expect(lossy.keys).toHaveLength(2);
    expect(lossy.keys[1]).toBe(lossy.keys[0]);
    expect(await notificationIds(project.id)).toEqual([sent.id]);
  });

  it("retries at most `retries` times, then throws", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const down = recordingFetch(() => new Response("", { status: 503 }));
    const pregon = createPregonClient({ url, apiKey: secret, fetch: down.fetch, retries: 1 });
    const error = await pregon.me.get.query().catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "PregonError",
      status: 503,
      code: "UNEXPECTED_RESPONSE",
    });
    expect(down.keys).toHaveLength(2);
  });

  it("waits as long as a 503's Retry-After says before trying again", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const times: number[] = [];
    // Pregón's own 503 (the database is unavailable) once, then the real answer.
    const busy = recordingFetch((attempt, response) => {
      times.push(performance.now());
      if (attempt > 1) return response;
      return Response.json(
        {
          error: {
            code: -32603,
            message: "The database is unavailable; try again shortly",
            data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503, reason: "database_unavailable" },
          },
        },
        { status: 503, headers: { "retry-after": "2" } },
      );
    });
    const pregon = createPregonClient({ url, apiKey: secret, fetch: busy.fetch });
    expect((await pregon.me.get.query()).scopes).toEqual(["admin"]);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_900);

    // A gateway's bare 503 with an HTTP date counts too; a wait over 30 s is left to the caller.
    const later = new Date(Date.now() + 120_000).toUTCString();
    const down = recordingFetch(
      () => new Response("", { status: 503, headers: { "retry-after": later } }),
    );
    const patient = createPregonClient({ url, apiKey: secret, fetch: down.fetch });
    const error = (await patient.me.get.query().catch((e: unknown) => e)) as PregonError;
    expect(error).toMatchObject({ status: 503, code: "UNEXPECTED_RESPONSE" });
    expect(error.retryAfterSeconds).toBeGreaterThan(100);
    expect(down.keys).toHaveLength(1);
  });

  it("knows every procedure that honours Idempotency-Key", () => {
    const procedures = appRouter._def.procedures as unknown as Record<
      string,
      { _def: { meta?: { idempotent?: true } } }
    >;
    const sends = Object.entries(procedures)
      .filter(([, procedure]) => procedure._def.meta?.idempotent)
      .map(([path]) => path);
    expect(sends).toContain("emails.send");
    expect(new Set(sends)).toEqual(sendPaths);
  });
});
