import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { Database, Project, Webhook } from "../index";

describe("Webhook.purge", () => {
  it("deletes settled messages past the retention, with their attempts; keeps pending and recent ones", async () => {
    const project = await Project.create(`purge-${Math.random().toString(36).slice(2)}`);
    const [endpoint] = await Database.use().execute<{ id: string }>(sql`
      insert into webhook_endpoints
        (project_id, url, description, event_types, secret, status, created_at, updated_at)
      values (${project.id}, 'https://example.com/hook', '', '{}', 'x', 'enabled', now(), now())
      returning id`);
    const old = new Date(Date.now() - Webhook.retentionMs - 60_000).toISOString();
    const recent = new Date(Date.now() - Webhook.retentionMs + 60_000).toISOString();
    const messages: Record<string, [string, string]> = {
      oldDelivered: ["delivered", old],
      oldFailed: ["failed", old],
      oldCanceled: ["canceled", old],
      oldPending: ["pending", old],
      recentDelivered: ["delivered", recent],
    };
    const ids: Record<string, string> = {};
    for (const [name, [status, createdAt]] of Object.entries(messages)) {
      const [row] = await Database.use().execute<{ id: string }>(sql`
        insert into webhook_messages
          (project_id, endpoint_id, event_id, event_type, payload, status, attempts, created_at)
        values (${project.id}, ${endpoint!.id}, gen_random_uuid(), 'key.created', '{}', ${status}, 1,
                ${createdAt})
        returning id`);
      ids[name] = row!.id;
      await Database.use().execute(sql`
        insert into webhook_attempts
          (project_id, endpoint_id, message_id, trigger, status, latency_ms, attempted_at)
        values (${project.id}, ${endpoint!.id}, ${row!.id}, 'scheduled', 'failed', 1, ${createdAt})`);
    }

    expect(await Webhook.purge()).toBeGreaterThanOrEqual(3);
    const left = await Database.use().execute<{ id: string }>(
      sql`select id from webhook_messages where endpoint_id = ${endpoint!.id}`,
    );
    expect(left.map((row) => row.id).sort()).toEqual([ids.oldPending, ids.recentDelivered].sort());
    const attempts = await Database.use().execute<{ message_id: string }>(
      sql`select message_id from webhook_attempts where endpoint_id = ${endpoint!.id}`,
    );
    expect(attempts.map((row) => row.message_id).sort()).toEqual(
      [ids.oldPending, ids.recentDelivered].sort(),
    );
  });
});
