import { eq, lt, sql } from "drizzle-orm";
import { z } from "zod";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Log from "../log";
import { projects } from "../project/project.sql";
import { limitRefusals, rateCounters } from "./ratelimit.sql";

export type Channel = "email" | "sms" | "push";

export const ChannelLimits = z.object({
  requestsPerMinute: z.number().int().positive(),
  recipientsPerDay: z.number().int().positive(),
});
export type ChannelLimits = z.infer<typeof ChannelLimits>;
export const Limits = z.partialRecord(z.enum(["email", "sms", "push"]), ChannelLimits.partial());
export type Limits = z.infer<typeof Limits>;

/** What a project may send unless its own limits say otherwise. */
export const defaults: Record<Channel, ChannelLimits> = {
  email: { requestsPerMinute: 600, recipientsPerDay: 100_000 },
  sms: { requestsPerMinute: 300, recipientsPerDay: 10_000 },
  push: { requestsPerMinute: 600, recipientsPerDay: 1_000_000 },
};

const minuteMs = 60_000;
const dayMs = 24 * 60 * minuteMs;

export async function limitsOf(projectId: string, channel: Channel): Promise<ChannelLimits> {
  const [row] = await Database.use()
    .select({ limits: projects.limits })
    .from(projects)
    .where(eq(projects.id, projectId));
  return { ...defaults[channel], ...Limits.parse(row?.limits ?? {})[channel] };
}

/** Sets (or with `undefined`, resets to the default) a project's limits for a channel. */
export async function setLimits(
  projectId: string,
  channel: Channel,
  limits: Partial<ChannelLimits>,
) {
  await Database.use()
    .update(projects)
    .set({
      limits: sql`jsonb_set(${projects.limits}, ${`{${channel}}`}::text[], ${JSON.stringify(limits)}::jsonb)`,
    })
    .where(eq(projects.id, projectId));
}

/**
 * Takes `amount` from the project's fixed window for `rule`, in one statement: it fits under
 * `limit` or nothing is taken. Refusals are recorded (outside any caller's transaction) and thrown
 * as `rate_limited` with the seconds until the window ends.
 */
export async function consume(input: {
  projectId: string;
  keyId?: string | undefined;
  rule: string;
  amount: number;
  limit: number;
  windowMs: number;
}): Promise<{ remaining: number; resetSeconds: number }> {
  const now = Clock.now();
  const windowStart = new Date(Math.floor(now.getTime() / input.windowMs) * input.windowMs);
  const resetSeconds = Math.ceil((windowStart.getTime() + input.windowMs - now.getTime()) / 1000);
  const rows = await Database.use().execute<{ count: number }>(sql`
    insert into ${rateCounters} as c (project_id, rule, window_start, count)
    select ${input.projectId}, ${input.rule}, ${windowStart.toISOString()}, ${input.amount}
    where ${input.amount}::int <= ${input.limit}::int
    on conflict (project_id, rule, window_start)
    do update set count = c.count + excluded.count
    where c.count + excluded.count <= ${input.limit}::int
    returning count`);
  const [row] = rows;
  if (row) return { remaining: input.limit - row.count, resetSeconds };
  Log.count("LimitRefusals");
  await Database.use()
    .insert(limitRefusals)
    .values({
      projectId: input.projectId,
      keyId: input.keyId ?? null,
      rule: input.rule,
      limit: input.limit,
      requested: input.amount,
      createdAt: now,
    });
  throw new AppError("rate_limited", `Limit reached: ${input.rule} is ${input.limit}`, {
    retryAfterSeconds: resetSeconds,
    limit: input.limit,
    remaining: 0,
  });
}

/** Applies a channel's send limits to one request of `recipients` recipients. */
export async function checkSend(input: {
  projectId: string;
  keyId?: string | undefined;
  channel: Channel;
  recipients: number;
}): Promise<void> {
  const limits = await limitsOf(input.projectId, input.channel);
  await consume({
    ...input,
    rule: `${input.channel}.requests_per_minute`,
    amount: 1,
    limit: limits.requestsPerMinute,
    windowMs: minuteMs,
  });
  await consume({
    ...input,
    rule: `${input.channel}.recipients_per_day`,
    amount: input.recipients,
    limit: limits.recipientsPerDay,
    windowMs: dayMs,
  });
}

/** Sweeper: drops counters of windows that ended over a day ago. */
export async function purge(): Promise<number> {
  const before = new Date(Clock.now().getTime() - 2 * dayMs);
  const rows = await Database.use()
    .delete(rateCounters)
    .where(lt(rateCounters.windowStart, before))
    .returning({ rule: rateCounters.rule });
  return rows.length;
}
