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

/** A channel's limits: the project's stored ones (its `limits` column) over the defaults. */
const channelLimits = (stored: unknown, channel: Channel): ChannelLimits => ({
  ...defaults[channel],
  ...Limits.parse(stored ?? {})[channel],
});

export async function limitsOf(projectId: string, channel: Channel): Promise<ChannelLimits> {
  const [row] = await Database.use()
    .select({ limits: projects.limits })
    .from(projects)
    .where(eq(projects.id, projectId));
  return channelLimits(row?.limits, channel);
}

/** Sets (or with `undefined`, resets to the default) a project's limits for a channel. */
export async function setLimits(
  projectId: string,
  channel: Channel,
  limits: Partial<ChannelLimits>,
) {
  await Project.setLimits(projectId, channel, limits);
}

/** One rule of a send: the amount it would take from its window, and the project's limit. */
interface Rule {
  rule: string;
  windowStart: string;
  amount: number;
  limit: number;
  resetSeconds: number;
}

/** What one send would take: its request and its recipients, each from its channel's window. */
export interface SendLimits {
  projectId: string;
  rules: Rule[];
}

/** Refusals thrown by `takeSend`, to be recorded once their transaction has rolled back. */
const unrecorded = new WeakMap<object, Rule>();

async function refuse(rule: Rule): Promise<AppError> {
  Log.count("LimitRefusals");
  await Database.use().insert(limitRefusals).values({
    projectId: Actor.projectId(),
    keyId: Actor.keyId(),
    rule: rule.rule,
    limit: rule.limit,
    requested: rule.amount,
    createdAt: Clock.now(),
  });
  return refusal(rule);
}

const refusal = (rule: Rule) =>
  new AppError("rate_limited", `Limit reached: ${rule.rule} is ${rule.limit}`, {
    retryAfterSeconds: rule.resetSeconds,
    limit: rule.limit,
    remaining: 0,
  });

/** A rule of a channel with what its current window has used. */
type Used = Omit<Rule, "amount"> & { used: number };

/** What `checkSend` judges: the project's limits of a channel and its current windows' counters. */
export interface SendUsage {
  projectId: string;
  requests: Used;
  recipients: Used;
}

/**
 * The read of the actor's project's limits of `channel` and of the counters of the current
 * windows, as one value, to run beside the send's other reads (`Database.readTogether`).
 */
export function sendUsage(channel: Channel): Database.Read<SendUsage> {
  const projectId = Actor.projectId();
  const now = Clock.now().getTime();
  const windowOf = (rule: string, windowMs: number) => {
    const start = Math.floor(now / windowMs) * windowMs;
    return {
      rule: `${channel}.${rule}`,
      windowStart: new Date(start).toISOString(),
      resetSeconds: Math.ceil((start + windowMs - now) / 1000),
    };
  };
  const requests = windowOf("requests_per_minute", minuteMs);
  const recipients = windowOf("recipients_per_day", dayMs);
  const counted = (rule: { rule: string; windowStart: string }) => sql`(
    select count from ${rateCounters}
    where project_id = ${projectId} and rule = ${rule.rule} and window_start = ${rule.windowStart})`;
  return {
    sql: sql`select json_build_object(
      'limits', (select limits from ${projects} where id = ${projectId}),
      'requests', ${counted(requests)}, 'recipients', ${counted(recipients)})`,
    parse(value) {
      const row = value as { limits: unknown; requests: number | null; recipients: number | null };
      const limits = channelLimits(row.limits, channel);
      return {
        projectId,
        requests: { ...requests, limit: limits.requestsPerMinute, used: row.requests ?? 0 },
        recipients: { ...recipients, limit: limits.recipientsPerDay, used: row.recipients ?? 0 },
      };
    },
  };
}

/**
 * Checks, before a send's costly work, that `usage` (`sendUsage`, read just before) leaves room
 * for one request of `recipients` recipients. A refusal is recorded and thrown as `rate_limited`
 * with the seconds until its window ends. Nothing is taken: `takeSend` does that, in the send's
 * transaction.
 */
export async function checkSend(usage: SendUsage, recipients: number): Promise<SendLimits> {
  const rules: Array<Rule & { used: number }> = [
    { ...usage.requests, amount: 1 },
    { ...usage.recipients, amount: recipients },
  ];
  for (const { used, ...rule } of rules) {
    if (used + rule.amount > rule.limit) throw await refuse(rule);
  }
  return { projectId: usage.projectId, rules: rules.map(({ used: _, ...rule }) => rule) };
}

/**
 * Takes what `checkSend` allowed, in one statement, in the send's transaction, so that it commits
 * with the send or not at all (nothing to give back when a send fails), and as late in it as it can
 * go: the counters' rows stay locked until the commit. Each rule's counter grows only while it
 * stays under its limit; a rule that no longer fits (concurrent sends took the room since the
 * check) throws `rate_limited`, which rolls the transaction back: record it with `recordRefusal`
 * once out of it.
 */
export async function takeSend(limits: SendLimits): Promise<void> {
  const { projectId, rules } = limits;
  const limitOf = sql.join(
    rules.map((rule) => sql`when ${rule.rule} then ${rule.limit}::int`),
    sql` `,
  );
  // One row per rule in a fixed order, so concurrent sends lock the counters alike.
  const taken = await Database.use().execute<{ rule: string }>(sql`
    insert into ${rateCounters} as c (project_id, rule, window_start, count)
    select ${projectId}, r.rule, r."windowStart", r.amount
    from json_to_recordset(${JSON.stringify(rules)}::json)
         as r(rule text, "windowStart" timestamptz, amount int, "limit" int)
    where r.amount <= r."limit"
    on conflict (project_id, rule, window_start)
    do update set count = c.count + excluded.count
    where c.count + excluded.count <= case excluded.rule ${limitOf} end
    returning rule`);
  const refused = rules.find((rule) => !taken.some((row) => row.rule === rule.rule));
  if (refused) {
    const error = refusal(refused);
    unrecorded.set(error, refused);
    throw error;
  }
}

/**
 * Records the refusal `error` is, if `takeSend` threw it (outside its transaction, which rolled
 * back); anything else is left alone.
 */
export async function recordRefusal(error: unknown): Promise<void> {
  const rule = typeof error === "object" && error !== null ? unrecorded.get(error) : undefined;
  if (!rule) return;
  unrecorded.delete(error as object);
  await refuse(rule);
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
