import { eq, lt, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import { Channel } from "../channel";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Log from "../log";
import * as Project from "../project";
import { projects } from "../project/project.sql";
import { limitRefusals, rateCounters } from "./ratelimit.sql";

export const ChannelLimits = z.object({
  requestsPerMinute: z.number().int().positive(),
  recipientsPerDay: z.number().int().positive(),
});
export type ChannelLimits = z.infer<typeof ChannelLimits>;
export const Limits = z.partialRecord(Channel, ChannelLimits.partial());
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
  await Project.setLimits(projectId, channel, limits);
}

/** An amount taken from one counter: what `giveBack` returns to it. */
export interface Taken {
  projectId: string;
  rule: string;
  windowStart: string;
  amount: number;
}

/**
 * Takes `amount` from the actor's project's fixed window for `rule`, in one statement: it fits
 * under `limit` or nothing is taken. Refusals are recorded (outside any caller's transaction) and
 * thrown as `rate_limited` with the seconds until the window ends.
 */
export async function consume(input: {
  rule: string;
  amount: number;
  limit: number;
  windowMs: number;
}): Promise<Taken & { remaining: number; resetSeconds: number }> {
  const projectId = Actor.projectId();
  const now = Clock.now();
  const windowStart = new Date(Math.floor(now.getTime() / input.windowMs) * input.windowMs);
  const resetSeconds = Math.ceil((windowStart.getTime() + input.windowMs - now.getTime()) / 1000);
  const rows = await Database.use().execute<{ count: number }>(sql`
    insert into ${rateCounters} as c (project_id, rule, window_start, count)
    select ${projectId}, ${input.rule}, ${windowStart.toISOString()}, ${input.amount}
    where ${input.amount}::int <= ${input.limit}::int
    on conflict (project_id, rule, window_start)
    do update set count = c.count + excluded.count
    where c.count + excluded.count <= ${input.limit}::int
    returning count`);
  const [row] = rows;
  if (row) {
    return {
      projectId,
      rule: input.rule,
      windowStart: windowStart.toISOString(),
      amount: input.amount,
      remaining: input.limit - row.count,
      resetSeconds,
    };
  }
  Log.count("LimitRefusals");
  await Database.use().insert(limitRefusals).values({
    projectId,
    keyId: Actor.keyId(),
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

/** Returns what was taken to the windows it was taken from (a send that was not written). */
export async function giveBack(taken: Taken[]): Promise<void> {
  if (taken.length === 0) return;
  await Database.use().execute(sql`
    update ${rateCounters} as c set count = greatest(c.count - t.amount, 0)
    from json_to_recordset(${JSON.stringify(taken)}::json)
         as t("projectId" uuid, rule text, "windowStart" timestamptz, amount int)
    where c.project_id = t."projectId" and c.rule = t.rule and c.window_start = t."windowStart"`);
}

/**
 * Takes the actor's project's send limits of a channel for one request of `recipients` recipients,
 * all or nothing: a refusal gives back what the rules before it took. The caller gives the rest
 * back with `giveBack` if the send is not written.
 */
export async function takeSend(input: { channel: Channel; recipients: number }): Promise<Taken[]> {
  const limits = await limitsOf(Actor.projectId(), input.channel);
  const taken: Taken[] = [];
  try {
    taken.push(
      await consume({
        rule: `${input.channel}.requests_per_minute`,
        amount: 1,
        limit: limits.requestsPerMinute,
        windowMs: minuteMs,
      }),
    );
    taken.push(
      await consume({
        rule: `${input.channel}.recipients_per_day`,
        amount: input.recipients,
        limit: limits.recipientsPerDay,
        windowMs: dayMs,
      }),
    );
  } catch (error) {
    await giveBack(taken);
    throw error;
  }
  return taken;
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
