// Section 5, faults: the load's mixed traffic, shorter, with one fault per run — Postgres
// restarted, the queue emulator restarted, an email sender that crashes on every 7th email — then
// the drain and the reconciliation: nothing lost, duplicates only in the documented SES window.
// Last, the whole local stack killed mid-send and started again (kill.ts).
import type { Email } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import type { QueueHandler } from "@pregon/local/poller";
import postgres from "postgres";
import type { BenchConfig, Fault, Section } from "./config";
import { startRestartableFauxqs } from "./fauxqs";
import { killRun } from "./kill";
import { issueOtps } from "./otps";
import { startPipeline } from "./pipeline";
import type { BenchStack } from "./stack";
import { num, seconds } from "./stats";
import {
  type Answer,
  drain,
  drive,
  latencyHeader,
  latencyRows,
  reconcile,
  statusList,
} from "./traffic";

/** Sends at once per invocation (Dispatch's default): what one crash can catch between SES and Postgres. */
const sendConcurrency = 8;
const crashEvery = 7;

const never = () => new Promise<never>(() => {});

/**
 * An email sender that dies on every `every`th queue message it is handed (each message counted
 * once, redeliveries not): right after SES accepted that message's first email, before `sent` is
 * written. The invocation fails (the poller leaves its whole batch on the queue, as Lambda does when
 * a function crashes) and nothing the dead invocation had started is recorded or sent afterwards.
 */
function crashingSender(every: number) {
  const stats = { messages: 0, crashes: 0 };
  const seen = new Set<string>();
  /** Delivery id -> the doomed message naming it, until that message has crashed a sender. */
  const doomed = new Map<string, string>();
  const handler =
    (mailer: Email.Mailer, sendRate: number): QueueHandler =>
    (event, context) => {
      for (const record of event.Records) {
        if (seen.has(record.messageId)) continue;
        seen.add(record.messageId);
        if (++stats.messages % every !== 0) continue;
        const { deliveryIds = [] } = JSON.parse(record.body) as { deliveryIds?: string[] };
        for (const id of deliveryIds) doomed.set(id, record.messageId);
      }
      let dead = false;
      let crash: (error: Error) => void = () => {};
      const crashed = new Promise<never>((_, reject) => {
        crash = reject;
      });
      const sender = createEmailSender({
        sendRate,
        mailer: {
          async send(email) {
            if (dead) return never();
            const sent = await mailer.send(email);
            if (dead) return never();
            const id = email.tags.find((tag) => tag.name === "delivery_id")?.value ?? "";
            const message = doomed.get(id);
            if (message === undefined) return sent;
            for (const [other, of] of doomed) if (of === message) doomed.delete(other);
            dead = true;
            stats.crashes++;
            crash(new Error(`simulated crash after SES accepted delivery ${id}`));
            return never();
          },
        },
      });
      return Promise.race([sender(event, context), crashed]);
    };
  return { handler, stats };
}

interface Run {
  fault: Fault;
  what: string;
  answers: Answer[];
  failures: string[];
  rows: string[];
}

async function run(bench: BenchStack, config: BenchConfig, fault: Fault): Promise<Run> {
  const { rate, seconds: duration, faultAtSeconds, downMs, visibilitySeconds } = config.faults;
  const tag = `fault-${fault}`;
  const project = await bench.project(`bench-${fault}`);
  const emulator = fault === "fauxqs" ? await startRestartableFauxqs() : undefined;
  const crash = fault === "crash" ? crashingSender(crashEvery) : undefined;
  const pipeline = await startPipeline(bench.stack, {
    prefix: `bf${fault}`,
    visibilityTimeoutSeconds: visibilitySeconds,
    ...(emulator && { aws: emulator.aws }),
    ...(crash && { emailHandler: crash.handler }),
  });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  try {
    await bench.clearMailbox();
    const codes = await issueOtps(sql, project.id, Math.ceil((rate * duration) / 4) + 1);
    let what = `the email sender crashes on every ${crashEvery}th queue message, right after SES accepted its first email (all run long, drain included)`;
    let injected: Promise<void> | undefined;
    const inject = async (at: number) => {
      if (fault === "postgres") {
        const { stoppedMs, startedMs } = await bench.restartPostgres(downMs);
        what = `Postgres stopped at ${num(at, 1)} s (fast shutdown, ${seconds(stoppedMs)}), down ${seconds(downMs)}, started again on the same data dir and port (${seconds(startedMs)})`;
      } else if (emulator) {
        const before = performance.now();
        await emulator.restart(downMs);
        what = `the queue emulator (SNS + SQS) stopped at ${num(at, 1)} s, down ${seconds(downMs)}, started again on the same port and stores (${seconds(performance.now() - before)} in all)`;
      }
    };
    const answers = await drive({
      apiUrl: bench.apiUrl,
      secret: project.secret,
      rate,
      seconds: duration,
      tag,
      codes,
      onTick: (elapsed) => {
        if (!injected && fault !== "crash" && elapsed >= faultAtSeconds) injected = inject(elapsed);
      },
    });
    await injected;
    const drained = await drain(bench, sql, pipeline, tag, config.drainSeconds * 1000);
    const result = await reconcile(bench, sql, tag, answers);
    const failed = answers.filter((a) => a.status >= 500 || a.status === 0);
    const failures: string[] = [];
    if (result.lost) failures.push(`${fault}: ${result.lost} recipients lost`);
    if (!drained.settled) failures.push(`${fault}: not drained in ${config.drainSeconds} s`);
    // Allowed duplicates: what a crash catches between SES's answer and the `sent` UPDATE.
    const allowed = crash ? crash.stats.crashes * sendConcurrency : fault === "fauxqs" ? 0 : null;
    if (allowed !== null && result.duplicates > allowed) {
      failures.push(`${fault}: ${result.duplicates} duplicates, more than ${allowed} allowed`);
    }
    const window =
      failed.length > 0
        ? ` (requests started between ${num(Math.min(...failed.map((a) => a.at)) / 1000, 1)} s and ${num(Math.max(...failed.map((a) => a.at)) / 1000, 1)} s)`
        : "";
    const rows = [
      `| fault | ${what} |`,
      `| requests | ${num(answers.length)}: ${num(answers.filter((a) => a.status >= 200 && a.status < 300).length)} 2xx, ${num(failed.length)} 5xx or no answer${window} |`,
      `| recipients accepted (2xx answers) | ${num(result.accepted)}; deliveries in Postgres ${num(result.deliveries)} (${num(result.unanswered)} committed whose answer was not a 2xx) |`,
      `| deliveries once drained | ${statusList(result.statuses)} |`,
      `| drain | ${drained.settled ? "settled" : "**not settled**"} in ${seconds(drained.settledMs)}; ${drained.sweeps} sweep(s) after moving the clock 5 min each: ${num(drained.requeued)} deliveries requeued, ${num(drained.republished)} outbox rows published |`,
      `| email DLQ | ${drained.redriven ? `${num(drained.redriven)} message(s) had used their 5 receives (each crash returns its whole batch of up to 10): redriven, as \`pregon dlq redrive\` does` : "empty"} |`,
      ...(crash
        ? [
            `| crashes | ${num(crash.stats.crashes)} (of ${num(crash.stats.messages)} queue messages) |`,
          ]
        : []),
      `| emails in the mailbox | ${num(result.inMailbox)} |`,
      `| **lost** | **${num(result.lost)}** |`,
      `| **duplicates** | **${num(result.duplicates)}**${allowed !== null ? ` (allowed: ${allowed === 0 ? "none" : `≤ ${num(allowed)} = crashes × ${sendConcurrency} sends in flight`})` : " (each a send SES accepted whose `sent` could not be written while Postgres was down)"} |`,
    ];
    return { fault, what, answers, failures, rows };
  } finally {
    await pipeline.stop();
    await emulator?.stop();
    await sql.end();
  }
}

const titles: Record<Fault, string> = {
  postgres: "Postgres restarted mid-load",
  fauxqs: "Queue emulator restarted mid-load",
  crash: `A sender that crashes on every ${crashEvery}th message`,
  kill: "kill -9 of the whole local stack mid-send, then a restart on the same data",
};

export async function faults(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rate, seconds: duration, runs, visibilitySeconds } = config.faults;
  const parts: string[] = [];
  const failures: string[] = [];
  for (const fault of runs) {
    const result =
      fault === "kill" ? await killRun(bench, config) : await run(bench, config, fault);
    failures.push(...result.failures);
    parts.push(`### ${titles[fault]}

| | |
| --- | --- |
${result.rows.join("\n")}

${latencyHeader}
${latencyRows(result.answers).join("\n")}`);
  }
  const markdown = `Each run: the load section's mix at ${num(rate)} requests/s for ${num(duration)} s with one fault, then a drain (bounded: ${config.drainSeconds} s) and the same reconciliation, address by address: every accepted recipient must end in a final status, every \`sent\` one in the mailbox. The queues of these runs hide a failed batch for ${visibilitySeconds} s instead of 180 s, so it comes back within the run. What only the sweeper recovers (a delivery leased by a sender that died: its lease, 60 s, then the visibility timeout, 180 s; an outbox row whose publish failed: 1 minute) is recovered by moving Pregón's clock (core \`Clock\`, which every lease and sweeper query reads) 5 minutes forward and running the sweeper, once the queues are empty and nothing has moved for 2 s: the same code path, without waiting 4 minutes per run.

Latencies count from when each request was sent; the client gives up after 15 s (counted as no answer), so a run's max shows how long requests caught by its fault waited.

Duplicates are emails in the mailbox beyond one per delivery. docs/email.md names the one duplicate the design cannot prevent: SES accepted the email and the sender could not record \`sent\` (it died, or Postgres was down); after the lease the delivery is sent again.

${parts.join("\n\n")}

The queue emulator run restarts a second fauxqs built with \`buildApp\` around stores the bench keeps (\`startFauxqs\`, what \`stack.ts\` starts, neither exposes its stores nor listens again once stopped): stopped, every SNS and SQS call fails (publishes, receives, deletes) and long polls are cut; started again, the queues hold what they held. That is SNS/SQS being unreachable, the failure AWS can have. A queue service forgetting accepted messages is the kill run's: there the whole local stack (\`npm start\`, spawned as a process group: its own durable Postgres, fauxqs and senders) is killed with SIGKILL while a large email and an SMS send are going out, then started again on the same data dir and ports; fauxqs loses every message with the process, the start puts every delivery still \`queued\` or \`sending\` back on its channel's queue, and the stored template is read from the data dir. No clock is moved in that run: it waits the real lease. (On AWS a message can only be dropped after the queue's retention, 4 days; the sweeper republishes deliveries queued longer than that, see docs/operations.md.) Nor are Lambda-level limits (concurrency, throttling) modelled: one poller per queue.`;
  return { title: "5. Faults", markdown, failures };
}
