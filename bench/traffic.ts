// Mixed traffic at a fixed rate (open loop: a request starts on schedule whether or not earlier
// ones were answered), then the drain and the reconciliation shared by the load and fault runs.
import { createSweeper } from "@pregon/functions/handlers/sweeper";
import type postgres from "postgres";
import type { IssuedOtp } from "./otps";
import type { Pipeline } from "./pipeline";
import type { BenchStack } from "./stack";
import { ms, num, percentile, sleep } from "./stats";

export type Kind = "email" | "otp send" | "otp verify";
export const kinds: Kind[] = ["email", "otp send", "otp verify"];

export interface Answer {
  kind: Kind;
  /** 0: no answer (connection refused, reset or timed out). */
  status: number;
  /** When the request started, in ms since the traffic started. */
  at: number;
  ms: number;
  /** Recipients the answer accepted (emails: `recipients.accepted`; a code: 1). */
  accepted: number;
  /** The notification (email) or OTP (code) the answer names. */
  id?: string;
}

export interface TrafficOptions {
  apiUrl: string;
  secret: string;
  /** Requests per second, all kinds together. */
  rate: number;
  seconds: number;
  /** Every address of the run starts with `${tag}-`, so its deliveries can be found. */
  tag: string;
  /** Codes to check (one per verify request). */
  codes: IssuedOtp[];
  /** Called about every 100 ms with the seconds elapsed (a fault run injects its fault). */
  onTick?: (elapsedSeconds: number) => void;
}

/** Per 4 requests: 2 emails (1 to 3 recipients), 1 code sent by email, 1 code checked. */
function request(i: number, options: TrafficOptions): { kind: Kind; path: string; body: unknown } {
  const address = (suffix: string | number) => `${options.tag}-${i}-${suffix}@pregon.bench`;
  switch (i % 4) {
    case 1:
      return {
        kind: "otp send",
        path: "/v1/otp",
        body: { channel: "email", to: address("otp"), ttlSeconds: 600 },
      };
    case 3: {
      const code = options.codes[Math.floor(i / 4) % options.codes.length]!;
      return { kind: "otp verify", path: "/v1/otp/verify", body: code };
    }
    default:
      return {
        kind: "email",
        path: "/v1/emails",
        body: {
          to: Array.from({ length: (i % 3) + 1 }, (_, j) => address(j)),
          subject: "Load {{ i }}",
          html: "<p>Request {{ i }} of the load run.</p>",
          text: "Request {{ i }} of the load run.",
          variables: { i },
        },
      };
  }
}

async function call(options: TrafficOptions, i: number, at: number): Promise<Answer> {
  const { kind, path, body } = request(i, options);
  const start = performance.now();
  try {
    const response = await fetch(`${options.apiUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.secret}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const answer = (await response.json()) as {
      id?: string;
      recipients?: { accepted: number };
    };
    const ok = response.status < 300;
    return {
      kind,
      status: response.status,
      at,
      ms: performance.now() - start,
      accepted: !ok || kind === "otp verify" ? 0 : (answer.recipients?.accepted ?? 1),
      ...(ok && answer.id && { id: answer.id }),
    };
  } catch {
    return { kind, status: 0, at, ms: performance.now() - start, accepted: 0 };
  }
}

/** Sends `rate × seconds` requests on schedule; resolves when every one is answered (or failed). */
export async function drive(options: TrafficOptions): Promise<Answer[]> {
  const total = Math.round(options.rate * options.seconds);
  const start = performance.now();
  const pending: Promise<Answer>[] = [];
  let ticked = 0;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.rate;
    while (performance.now() < due) {
      await sleep(Math.min(due - performance.now(), 100));
      const elapsed = (performance.now() - start) / 1000;
      if (options.onTick && elapsed - ticked >= 0.1) {
        ticked = elapsed;
        options.onTick(elapsed);
      }
    }
    pending.push(call(options, i, performance.now() - start));
  }
  return Promise.all(pending);
}

/** Latency and answers per kind of request, as table rows. */
export function latencyRows(answers: Answer[]): string[] {
  return [...kinds, "all" as const].map((kind) => {
    const of = kind === "all" ? answers : answers.filter((a) => a.kind === kind);
    const answered = of.filter((a) => a.status > 0).map((a) => a.ms);
    const count = (test: (status: number) => boolean) => of.filter((a) => test(a.status)).length;
    return `| ${kind} | ${num(of.length)} | ${num(count((s) => s >= 200 && s < 300))} | ${num(count((s) => s >= 400 && s < 500))} | ${num(count((s) => s >= 500))} | ${num(count((s) => s === 0))} | ${ms(percentile(answered, 50))} | ${ms(percentile(answered, 99))} | ${ms(Math.max(0, ...answered))} |`;
  });
}

export const latencyHeader = `| request | sent | 2xx | 4xx | 5xx | no answer | p50 | p99 | max |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |`;

/** Deliveries of the run still queued or sending. */
async function pendingOf(sql: postgres.Sql, tag: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from deliveries
    where address like ${`${tag}-%`} and status in ('queued', 'sending')`;
  return row!.n;
}

export interface Drain {
  settledMs: number;
  settled: boolean;
  /** Sweeps run after moving the clock past the lease and visibility timeout. */
  sweeps: number;
  requeued: number;
  republished: number;
  /** Messages the email DLQ held, moved back to the queue as an operator would. */
  redriven: number;
}

/**
 * Waits until every delivery of the run is settled. When the email queue is empty and deliveries
 * are still pending, what is left can only come back through an operator or the sweeper: messages
 * in the DLQ are redriven (`pregon dlq redrive`), then, if there were none, the clock is moved
 * 5 minutes forward (more than lease + visibility timeout, and the outbox's 1 minute) and the
 * sweeper runs (leases that must run out, outbox rows whose publish failed), instead of waiting.
 */
export async function drain(
  bench: BenchStack,
  sql: postgres.Sql,
  pipeline: Pipeline,
  tag: string,
  timeoutMs: number,
): Promise<Drain> {
  const sweep = createSweeper();
  const start = performance.now();
  const result: Drain = {
    settledMs: 0,
    settled: false,
    sweeps: 0,
    requeued: 0,
    republished: 0,
    redriven: 0,
  };
  let last = -1;
  let stillSince = performance.now();
  while (performance.now() - start < timeoutMs) {
    const pending = await pendingOf(sql, tag).catch(() => -1);
    if (pending === 0) {
      result.settled = true;
      break;
    }
    if (pending !== last) {
      last = pending;
      stillSince = performance.now();
    } else if (performance.now() - stillSince > 2_000 && (await pipeline.depth("email")) === 0) {
      const { moved } = await pipeline.redriveEmail();
      result.redriven += moved;
      if (moved === 0) {
        bench.advanceClock(5 * 60_000);
        const swept = await sweep();
        result.sweeps++;
        result.requeued += swept.requeued;
        result.republished += swept.republished;
      }
      stillSince = performance.now();
    }
    await sleep(250);
  }
  result.settledMs = performance.now() - start;
  return result;
}

export interface Reconciliation {
  /** Recipients the API accepted (2xx answers). */
  accepted: number;
  /** Deliveries of the run in Postgres, by status. */
  statuses: Record<string, number>;
  deliveries: number;
  /** Accepted but not settled, or sent without an email in the mailbox, or answered but missing. */
  lost: number;
  /** Emails in the mailbox beyond one per delivery. */
  duplicates: number;
  /** Deliveries whose request was not answered 2xx (the commit went through, the answer did not). */
  unanswered: number;
  inMailbox: number;
}

/** Compares the answers, the deliveries in Postgres and the mailbox, address by address. */
export async function reconcile(
  bench: BenchStack,
  sql: postgres.Sql,
  tag: string,
  answers: Answer[],
): Promise<Reconciliation> {
  const rows = await sql<{ address: string; status: string; notification_id: string }[]>`
    select address, status, notification_id from deliveries where address like ${`${tag}-%`}`;
  const copies = new Map<string, number>();
  for (const to of await bench.mailboxRecipients()) {
    if (to.startsWith(`${tag}-`)) copies.set(to, (copies.get(to) ?? 0) + 1);
  }
  const statuses: Record<string, number> = {};
  let lost = 0;
  let duplicates = 0;
  for (const row of rows) {
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
    const n = copies.get(row.address.toLowerCase()) ?? 0;
    if (row.status === "queued" || row.status === "sending") lost++;
    else if (row.status === "sent" && n === 0) lost++;
    duplicates += Math.max(0, n - 1);
  }
  // Every 2xx answer names rows that exist: an email's notification, a code's OTP.
  const notifications = new Set(rows.map((row) => row.notification_id));
  const emailIds = answers.filter((a) => a.kind === "email" && a.id).map((a) => a.id!);
  const otpIds = answers.filter((a) => a.kind === "otp send" && a.id).map((a) => a.id!);
  lost += emailIds.filter((id) => !notifications.has(id)).length;
  if (otpIds.length) {
    const [found] = await sql<{ n: number }[]>`
      select count(*)::int as n from otps where id = any(${otpIds}::uuid[]) and delivery_id is not null`;
    lost += otpIds.length - found!.n;
  }
  const accepted = answers.reduce((n, a) => n + a.accepted, 0);
  return {
    accepted,
    statuses,
    deliveries: rows.length,
    lost,
    duplicates,
    unanswered: Math.max(0, rows.length - accepted),
    inMailbox: [...copies.values()].reduce((a, b) => a + b, 0),
  };
}

export function statusList(statuses: Record<string, number>): string {
  return (
    Object.entries(statuses)
      .sort((a, b) => b[1] - a[1])
      .map(([status, n]) => `${status} ${num(n)}`)
      .join(", ") || "none"
  );
}
