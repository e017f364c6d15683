import { createApp } from "@pregon/api";
import { Clock, Database, RateLimit } from "@pregon/core";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { uniqueDomain } from "./support/email";
import {
  bearer,
  projectWithKey,
  refusingInserts,
  refusingWrites,
  settings,
} from "./support/fixtures";

const app = createApp(settings);
const restores: Array<() => void> = [];
afterEach(() => {
  for (const restore of restores.splice(0)) restore();
});

async function send(
  secret: string,
  recipients: number,
  key?: string,
  content: Record<string, unknown> = { subject: "s", text: "t" },
) {
  const domain = uniqueDomain();
  const response = await app.request("/v1/emails", {
    method: "POST",
    headers: {
      ...bearer(secret),
      "content-type": "application/json",
      ...(key && { "idempotency-key": key }),
    },
    body: JSON.stringify({
      to: Array.from({ length: recipients }, (_, i) => `r${i}@${domain}`),
      ...content,
    }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** What a project's send counters hold now, per rule (0 for a rule nothing was taken from). */
async function counters(projectId: string) {
  const rows = await Database.use().execute<{ rule: string; count: number }>(
    sql`select rule, count from rate_counters where project_id = ${projectId}`,
  );
  return {
    "email.requests_per_minute": 0,
    "email.recipients_per_day": 0,
    ...Object.fromEntries(rows.map((row) => [row.rule, row.count])),
  };
}

/** Rows a project's sends wrote: notifications, deliveries, and outbox rows naming them. */
async function written(projectId: string) {
  const [row] = await Database.use().execute<{
    notifications: number;
    deliveries: number;
    outbox: number;
  }>(sql`
    select (select count(*)::int from notifications where project_id = ${projectId}) as notifications,
           (select count(*)::int from deliveries where project_id = ${projectId}) as deliveries,
           (select count(*)::int from outbox o where exists (
              select 1 from notifications n where n.project_id = ${projectId}
                and o.body like '%' || n.id || '%')
              or exists (select 1 from deliveries d where d.project_id = ${projectId}
                and o.body like '%' || d.id || '%')) as outbox`);
  return row!;
}

/**
 * Runs `work` while Postgres refuses, for `projectId`, the accepted fact's outbox row (the last
 * write of a send's transaction) and any lowering of a counter (a give-back): a send that fails
 * late in its transaction, with nothing it took given back after, as if its process then died.
 */
function failingLate<T>(projectId: string, work: () => Promise<T>): Promise<T> {
  return refusingWrites("outbox", "insert", `new.body like '%${projectId}%'`, () =>
    refusingWrites(
      "rate_counters",
      "update",
      `new.project_id = '${projectId}' and new.count < old.count`,
      work,
    ),
  );
}

/** A clock 15 s into a minute, so a window does not end mid-test. */
function steadyClock() {
  const start = new Date();
  start.setUTCSeconds(15, 0);
  const clock = Clock.manual(start);
  restores.push(Clock.use(clock));
  return clock;
}

describe("send limits per project", () => {
  it("answers 429 with Retry-After and RateLimit-* past requests per minute; others unaffected", async () => {
    const clock = steadyClock();
    const limited = await projectWithKey(["emails:send"]);
    const other = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(limited.project.id, "email", { requestsPerMinute: 2 });

    expect((await send(limited.secret, 1)).status).toBe(202);
    expect((await send(limited.secret, 1)).status).toBe(202);
    const refused = await send(limited.secret, 1);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "TOO_MANY_REQUESTS", reason: "rate_limited" });
    expect(refused.headers.get("retry-after")).toBe("45");
    expect(refused.headers.get("ratelimit-limit")).toBe("2");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("ratelimit-reset")).toBe("45");
    for (let i = 0; i < 3; i++) expect((await send(other.secret, 1)).status).toBe(202);

    const refusals = await Database.use().execute<{ key_id: string; rule: string; limit: number }>(
      sql`select key_id, rule, "limit" from limit_refusals where project_id = ${limited.project.id}`,
    );
    expect([...refusals]).toEqual([
      { key_id: limited.key.id, rule: "email.requests_per_minute", limit: 2 },
    ]);

    clock.advance(45_000); // the next minute
    expect((await send(limited.secret, 1)).status).toBe(202);
  });

  it("refuses a request that would pass recipients per day, whole", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { recipientsPerDay: 5 });
    expect((await send(secret, 3)).status).toBe(202);
    const refused = await send(secret, 3);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toBe("Limit reached: email.recipients_per_day is 5");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await send(secret, 2)).status).toBe(202);
    expect((await send(secret, 1)).status).toBe(429);
  });

  it("does not count replays of an idempotent request", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 1 });
    const body = JSON.stringify({ to: [`a@${uniqueDomain()}`], subject: "s", text: "t" });
    const post = (key: string) =>
      app.request("/v1/emails", {
        method: "POST",
        headers: { ...bearer(secret), "content-type": "application/json", "idempotency-key": key },
        body,
      });
    const first = await post("same");
    expect(first.status).toBe(202);
    const { id } = await first.json();
    for (let i = 0; i < 5; i++) {
      const replay = await post("same");
      expect(replay.status).toBe(202);
      expect((await replay.json()).id).toBe(id);
    }
    expect((await post("new")).status).toBe(429);
  });

  it("counts concurrent first tries of one key once: the one that sends", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 10 });
    const domain = uniqueDomain();
    const body = JSON.stringify({ to: [`a@${domain}`, `b@${domain}`], subject: "s", text: "t" });
    const tries = await Promise.all(
      Array.from({ length: 4 }, () =>
        app.request("/v1/emails", {
          method: "POST",
          headers: {
            ...bearer(secret),
            "content-type": "application/json",
            "idempotency-key": "together",
          },
          body,
        }),
      ),
    );
    expect(tries.map((t) => t.status)).toEqual([202, 202, 202, 202]);
    const ids = await Promise.all(tries.map(async (t) => (await t.json()).id));
    expect(new Set(ids).size).toBe(1);
    expect(await counters(project.id)).toEqual({
      "email.requests_per_minute": 1,
      "email.recipients_per_day": 2,
    });
  });

  it("sends the same headers over tRPC", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 1 });
    const call = () =>
      app.request("/trpc/emails.send", {
        method: "POST",
        headers: { ...bearer(secret), "content-type": "application/json" },
        body: JSON.stringify({ to: [`a@${uniqueDomain()}`], subject: "s", text: "t" }),
      });
    expect((await call()).status).toBe(200);
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("45");
    expect((await refused.json()).error.data).toMatchObject({ reason: "rate_limited" });
  });

  it("refuses a project over its limits before any template work", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 1 });
    expect((await send(secret, 1)).status).toBe(202);
    // Each would be a 400 once its templates were parsed or rendered: the limit answers first.
    for (const content of [
      { subject: "{% include 'package.json' %}", text: "t" },
      {
        subject: "{% for i in (1..1000) %}{% for j in (1..2500) %}{% endfor %}{% endfor %}",
        text: "t",
      },
      { subject: "{{ s }}", text: "t", variables: { s: "line\nbreak" } },
      { template: { key: "nowhere" } },
    ]) {
      const refused = await send(secret, 2, undefined, content);
      expect(refused.status, JSON.stringify(content)).toBe(429);
    }
  });

  it("takes nothing for a send that fails after the limits were checked: 4xx or 500", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 2, recipientsPerDay: 3 });
    expect((await send(secret, 3, undefined, { template: { key: "nowhere" } })).status).toBe(404);
    const lineBreak = { subject: "{{ s }}", text: "t", variables: { s: "a\nb" } };
    expect((await send(secret, 3, undefined, lineBreak)).status).toBe(400);
    // The transaction itself fails (Postgres refuses the deliveries): a 500, nothing written.
    await refusingInserts("deliveries", project.id, async () => {
      expect((await send(secret, 3)).status).toBe(500);
    });
    expect(await counters(project.id)).toEqual({
      "email.requests_per_minute": 0,
      "email.recipients_per_day": 0,
    });
    // Still the whole allowance: two requests, three recipients.
    expect((await send(secret, 3)).status).toBe(202);
    expect((await send(secret, 1)).status).toBe(429);
    expect(await counters(project.id)).toEqual({
      "email.requests_per_minute": 1,
      "email.recipients_per_day": 3,
    });
  });

  it("lets parallel sends at the limit through up to it, no further, and writes only those", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 3 });
    const statuses = await Promise.all(
      Array.from({ length: 8 }, async () => (await send(secret, 2)).status),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(await counters(project.id)).toEqual({
      "email.requests_per_minute": 3,
      "email.recipients_per_day": 6,
    });
    const { notifications, deliveries } = await written(project.id);
    expect({ notifications, deliveries }).toEqual({ notifications: 3, deliveries: 6 });
    const [refusals] = await Database.use().execute<{ n: number }>(
      sql`select count(*)::int as n from limit_refusals where project_id = ${project.id}`,
    );
    expect(refusals!.n).toBe(5);
  });

  it("refuses, records and writes nothing when the limit is reached between check and take", async () => {
    steadyClock();
    const { project, as } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 1 });
    await as(async () => {
      const check = async () => {
        const { usage } = await Database.readTogether({ usage: RateLimit.sendUsage("email") });
        return RateLimit.checkSend(usage, 1);
      };
      const first = await check();
      const second = await check();
      await Database.transaction(() => RateLimit.takeSend(first));
      const refused = await Database.transaction(() => RateLimit.takeSend(second)).catch(
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ reason: "rate_limited" });
      await RateLimit.recordRefusal(refused);
    });
    expect(await counters(project.id)).toEqual({
      "email.requests_per_minute": 1,
      "email.recipients_per_day": 1,
    });
    const refusals = await Database.use().execute<{ rule: string; requested: number }>(
      sql`select rule, requested from limit_refusals where project_id = ${project.id}`,
    );
    expect([...refusals]).toEqual([{ rule: "email.requests_per_minute", requested: 1 }]);
  });

  it("consumes nothing and leaves no rows when the send's transaction fails, give-back or not", async () => {
    steadyClock();
    const { secret, project } = await projectWithKey(["emails:send"]);
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 1, recipientsPerDay: 3 });
    await failingLate(project.id, async () => {
      expect((await send(secret, 3)).status).toBe(500);
    });
    expect(await counters(project.id)).toEqual({
      "email.requests_per_minute": 0,
      "email.recipients_per_day": 0,
    });
    expect(await written(project.id)).toEqual({ notifications: 0, deliveries: 0, outbox: 0 });
    expect((await send(secret, 3)).status).toBe(202);
  });

  it("keeps the defaults for channels and fields a project does not override", async () => {
    const { project } = await projectWithKey();
    await RateLimit.setLimits(project.id, "email", { requestsPerMinute: 7 });
    expect(await RateLimit.limitsOf(project.id, "email")).toEqual({
      requestsPerMinute: 7,
      recipientsPerDay: RateLimit.defaults.email.recipientsPerDay,
    });
    expect(await RateLimit.limitsOf(project.id, "sms")).toEqual(RateLimit.defaults.sms);
  });
});
