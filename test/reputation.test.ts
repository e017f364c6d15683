import { createApp } from "@pregon/api";
import { Actor, Database, Delivery, Reputation } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { acknowledge, event, mailer, receiveAll, uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";
import { neverPause } from "./support/setup";

const app = createApp(settings);
const sender = createEmailSender({ mailer, sendRate: 5000 });

afterEach(() => Reputation.configure({ minVolume: neverPause }));

const factsOf = (projectId: string, type: string) =>
  Database.use().execute<{ body: string }>(
    sql`select body from outbox where body::json->>'type' = ${type}
        and body::json->>'projectId' = ${projectId} order by id`,
  );

describe("the reputation guard", () => {
  it("pauses only bulk email of a project whose complaint rate passes the stop threshold, until resumed", async () => {
    const { secret, project } = await projectWithKey(["emails:send", "preferences:write"]);
    const call = (method: string, path: string, body?: unknown) =>
      callApp(app, secret, method, path, body);
    expect((await call("PUT", "/v1/categories/newsletter", { name: "News" })).status).toBe(200);
    const domain = uniqueDomain();
    const receipt = { subject: "Your receipt", text: "Thanks" };
    const newsletter = { ...receipt, category: "newsletter" };
    const to = ["a", "b", "c", "d"].map((name) => `${name}@${domain}`);
    const sent = await call("POST", "/v1/emails", { to, ...receipt });
    expect(sent.status).toBe(202);
    const records = await receiveAll(1);
    expect((await sender(event(...records))).batchItemFailures).toEqual([]);
    await acknowledge(records);
    const [first] = await Database.use().execute<{ id: string }>(
      sql`select id from deliveries where notification_id = ${sent.body.id} order by position limit 1`,
    );
    // One complaint in four: 25%, far over the 0.3% stop threshold.
    await Actor.provide({ type: "system", reason: "feedback" }, () =>
      Delivery.advance(first!.id, "complained"),
    );

    const sweep = () => Actor.provide({ type: "system", reason: "sweeper" }, Reputation.evaluate);
    // Below the minimum volume a rate does not count.
    Reputation.configure({ minVolume: { ...neverPause, project: 5 } });
    expect((await sweep()).paused).not.toContain(project.id);
    expect((await call("POST", "/v1/emails", { to: [to[1]], ...newsletter })).status).toBe(202);

    Reputation.configure({ minVolume: { ...neverPause, project: 4 } });
    expect((await sweep()).paused).toContain(project.id);
    const paused = await factsOf(project.id, "reputation.paused");
    expect(paused).toHaveLength(1);
    expect(JSON.parse(paused[0]!.body).data).toMatchObject({ complaintRate: 0.25, sent: 4 });

    const refused = await call("POST", "/v1/emails", { to: [to[1]], ...newsletter });
    expect(refused).toMatchObject({
      status: 403,
      body: { code: "FORBIDDEN", reason: "reputation_paused" },
    });
    expect(refused.headers.get("retry-after")).toBeNull();
    expect(JSON.parse((await factsOf(project.id, "reputation.refused"))[0]!.body).data).toEqual({
      category: "newsletter",
      scope: "project",
    });
    // Transactional email keeps flowing.
    expect((await call("POST", "/v1/emails", { to: [to[1]], ...receipt })).status).toBe(202);
    // A standing pause is not paused again.
    expect((await sweep()).paused).not.toContain(project.id);

    expect(
      await Actor.provide({ type: "system", reason: "cli" }, () => Reputation.resume(project.id)),
    ).toBe(true);
    expect(await factsOf(project.id, "reputation.resumed")).toHaveLength(1);
    expect((await call("POST", "/v1/emails", { to: [to[1]], ...newsletter })).status).toBe(202);
  });
});
