import { and, desc, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { deliveries } from "../delivery/delivery.sql";
import { AppError } from "../error";
import * as Fact from "../fact";
import * as Log from "../log";
import { notifications } from "../notification/notification.sql";
import { reputationPauses } from "./reputation.sql";

/**
 * The reputation guard: rolling bounce and complaint rates of email, per project and for the
 * account, from the statuses SES feedback gives deliveries. Over a warning threshold they raise a
 * metric (and an alarm on AWS); over a stop threshold, below SES's own, bulk email (any category
 * but transactional) is refused until an operator resumes it. Transactional email keeps flowing.
 */
export interface Settings {
  /** The rolling window: emails accepted this long ago or less. */
  windowHours: number;
  /**
   * Sends in the window below which rates are not acted on (too few to mean much): a project's,
   * and the account's, which sums every project's.
   */
  minVolume: { project: number; account: number };
  /** Fractions (0.05 = 5%): a metric over `warn`, a pause over `stop`. */
  bounce: { warn: number; stop: number };
  complaint: { warn: number; stop: number };
}

/**
 * SES reviews an account at a 5% bounce rate and may pause it at 10%; complaints at 0.1% and 0.5%.
 * Gmail and Yahoo ask bulk senders to stay under 0.3% complaints. Pregón stops before either.
 */
export const defaults: Settings = {
  windowHours: 24,
  minVolume: { project: 500, account: 1000 },
  bounce: { warn: 0.05, stop: 0.08 },
  complaint: { warn: 0.001, stop: 0.003 },
};

let settings = defaults;

/** Entry points that evaluate the rates (the sweeper) set the window and minimum volume at start. */
export function configure(value: Partial<Pick<Settings, "windowHours" | "minVolume">>): void {
  settings = { ...defaults, ...value };
}

export const account = "account";
export const Scope = z.enum(["project", "account"]);

const rates = {
  bounceRate: z.number().meta({ description: "Permanent bounces per email sent in the window" }),
  complaintRate: z.number().meta({ description: "Complaints per email sent in the window" }),
  sent: z.number().int().meta({ description: "Emails sent in the window the rates count" }),
};

export const facts = {
  paused: Fact.define("reputation.paused", {
    version: 1,
    subject: null,
    data: z.object(rates),
  }),
  resumed: Fact.define("reputation.resumed", { version: 1, subject: null, data: z.object({}) }),
  refused: Fact.define("reputation.refused", {
    version: 1,
    subject: null,
    data: z.object({
      category: z.string().meta({ description: "The category of email, by its key" }),
      scope: Scope.meta({
        description: "What is paused: the project, or the account (every project)",
      }),
    }),
  }),
};

export interface Rates {
  sent: number;
  bounced: number;
  complained: number;
  bounceRate: number;
  complaintRate: number;
}

const ratesOf = (sent: number, bounced: number, complained: number): Rates => ({
  sent,
  bounced,
  complained,
  bounceRate: sent ? bounced / sent : 0,
  complaintRate: sent ? complained / sent : 0,
});

/** Each project's email rates in the window (those that sent any), and the account's. */
export async function measure(): Promise<{ projects: Map<string, Rates>; account: Rates }> {
  const since = new Date(Clock.now().getTime() - settings.windowHours * 3_600_000);
  // SES counts hard bounces only; the feedback consumer writes their type first in `error`.
  const rows = await Database.use().execute<{
    project_id: string;
    sent: number;
    bounced: number;
    complained: number;
  }>(sql`
    select n.project_id,
      count(*) filter (where d.status in ('sent', 'delivered', 'bounced', 'complained'))::int as sent,
      count(*) filter (where d.status = 'bounced' and d.error like 'Permanent %')::int as bounced,
      count(*) filter (where d.status = 'complained')::int as complained
    from ${notifications} n join ${deliveries} d on d.notification_id = n.id
    where n.channel = 'email' and n.created_at >= ${since.toISOString()}
    group by n.project_id`);
  const projects = new Map(
    rows.map((r) => [r.project_id, ratesOf(r.sent, r.bounced, r.complained)] as const),
  );
  const sum = (field: "sent" | "bounced" | "complained") =>
    rows.reduce((total, r) => total + r[field], 0);
  return { projects, account: ratesOf(sum("sent"), sum("bounced"), sum("complained")) };
}

const over = (scope: string, rates: Rates, level: "warn" | "stop") =>
  rates.sent >= settings.minVolume[scope === account ? "account" : "project"] &&
  (rates.bounceRate >= settings.bounce[level] || rates.complaintRate >= settings.complaint[level]);

/** Pauses a scope unless one stands; true when this call paused it. */
async function pause(scope: string, rates: Rates): Promise<boolean> {
  return Database.transaction(async (tx) => {
    const [row] = await tx
      .insert(reputationPauses)
      .values({
        scope,
        bounceRate: rates.bounceRate,
        complaintRate: rates.complaintRate,
        sent: rates.sent,
        pausedAt: Clock.now(),
      })
      .onConflictDoNothing()
      .returning({ id: reputationPauses.id });
    if (row && scope !== account) {
      const { bounceRate, complaintRate, sent } = rates;
      await Fact.emit(facts.paused, scope, { bounceRate, complaintRate, sent });
    }
    return row !== undefined;
  });
}

/**
 * The sweeper's step: measures the rates, publishes the account's as metrics, counts the scopes
 * over the warning threshold, and pauses those over the stop threshold. Returns what it paused.
 */
export async function evaluate(): Promise<{ warned: string[]; paused: string[] }> {
  const measured = await measure();
  const metrics = Log.metrics();
  if (measured.account.sent >= settings.minVolume.account) {
    metrics.addMetric("EmailBounceRate", Log.MetricUnit.Percent, measured.account.bounceRate * 100);
    metrics.addMetric(
      "EmailComplaintRate",
      Log.MetricUnit.Percent,
      measured.account.complaintRate * 100,
    );
  }
  const scopes: Array<[string, Rates]> = [...measured.projects, [account, measured.account]];
  const warned: string[] = [];
  const paused: string[] = [];
  for (const [scope, rates] of scopes) {
    if (!over(scope, rates, "warn")) continue;
    warned.push(scope);
    Log.count("ReputationWarning");
    if (over(scope, rates, "stop") && (await pause(scope, rates))) {
      paused.push(scope);
      Log.count("ReputationPaused");
      Log.logger.warn("bulk email paused", { scope, ...rates });
    }
  }
  return { warned, paused };
}

/**
 * Refuses a send of bulk email (`category`) while the actor's project or the account is paused:
 * 403 `reputation_paused`, with a `reputation.refused` fact. No Retry-After: only an operator ends
 * a pause.
 */
export async function assertSending(category: string): Promise<void> {
  const projectId = Actor.projectId();
  const standing = await Database.use()
    .select({ scope: reputationPauses.scope })
    .from(reputationPauses)
    .where(
      and(
        inArray(reputationPauses.scope, [projectId, account]),
        isNull(reputationPauses.resumedAt),
      ),
    );
  if (standing.length === 0) return;
  const scope = standing.some((p) => p.scope === projectId) ? "project" : "account";
  await Fact.emit(facts.refused, projectId, { category, scope });
  Log.count("ReputationRefused");
  throw new AppError(
    "reputation_paused",
    `Bulk email is paused for ${scope === "project" ? "this project" : "every project"}: its bounce or complaint rate passed the stop threshold. Transactional email still flows; an operator resumes it`,
  );
}

export const Pause = z.object({
  scope: z.string(),
  bounceRate: z.number(),
  complaintRate: z.number(),
  sent: z.number().int(),
  pausedAt: z.iso.datetime(),
  resumedAt: z.iso.datetime().nullable(),
});
export type Pause = z.infer<typeof Pause>;

/** The latest pauses, standing ones first. */
export async function pauses(limit = 50): Promise<Pause[]> {
  const rows = await Database.use()
    .select()
    .from(reputationPauses)
    .orderBy(sql`${reputationPauses.resumedAt} is null desc`, desc(reputationPauses.pausedAt))
    .limit(limit);
  return rows.map((r) => ({
    scope: r.scope,
    bounceRate: r.bounceRate,
    complaintRate: r.complaintRate,
    sent: r.sent,
    pausedAt: r.pausedAt.toISOString(),
    resumedAt: r.resumedAt?.toISOString() ?? null,
  }));
}

/** Ends the standing pause of `scope` (a project id, or `account`); false when none stood. */
export async function resume(scope: string): Promise<boolean> {
  return Database.transaction(async (tx) => {
    const [row] = await tx
      .update(reputationPauses)
      .set({ resumedAt: Clock.now() })
      .where(and(sql`${reputationPauses.scope} = ${scope}`, isNull(reputationPauses.resumedAt)))
      .returning({ id: reputationPauses.id });
    if (row && scope !== account) await Fact.emit(facts.resumed, scope, {});
    return row !== undefined;
  });
}
