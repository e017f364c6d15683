// Fault run "kill": the whole local stack as `npm start` runs it (its own Postgres, fauxqs, the
// pollers and senders, the API) is killed with SIGKILL, process group and all, in the middle of a
// 2,000-recipient email (with a stored template) and a 200-number SMS send, then started again on
// the same data dir and ports. The stack sends email through the bench's SES mailbox
// (AWS_ENDPOINT_URL_SESV2), which outlives the kill, so every email can be counted.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@pregon/local/stack";
import { leaseMs } from "@pregon/pipelines";
import postgres from "postgres";
import type { BenchConfig } from "./config";
import { settings } from "./settings";
import type { BenchStack } from "./stack";
import { num, seconds, sleep, waitFor } from "./stats";
import { type Answer, reconcile, statusList } from "./traffic";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const emails = 2_000;
const sms = 200;
/** Emails in the mailbox when the stack is killed: a quarter of the send. */
const killAfter = 500;
/** Sends in flight per email sender: what the kill can catch between SES and the `sent` UPDATE. */
const sendConcurrency = 8;

/** `npm start` (package.json's script, run without npm), in a process group of its own. */
function npmStart(env: Record<string, string>) {
  // `node --import tsx …`: Node itself, with no runner between it and the signals.
  const [, ...args] = JSON.parse(
    readFileSync(join(root, "package.json"), "utf8"),
  ).scripts.start.split(" ") as string[];
  const { DATABASE_URL: _none, ...inherited } = process.env;
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => output.includes("Stop: Ctrl-C") && resolve());
    void exited.then(() => reject(new Error(`npm start exited:\n${output.slice(-2000)}`)));
  });
  return {
    ready,
    exited,
    output: () => output,
    /** Signals the whole group; one already gone has nothing left to signal. */
    signal: (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    },
  };
}

export interface KillRun {
  what: string;
  rows: string[];
  failures: string[];
  answers: Answer[];
}

export async function killRun(bench: BenchStack, config: BenchConfig): Promise<KillRun> {
  const tag = "fault-kill";
  const dataDir = await mkdtemp(join(tmpdir(), "pregon-bench-kill-"));
  const pgPort = await freePort();
  const key = `bench-kill-${randomBytes(24).toString("hex")}`;
  const env = {
    PORT: String(await freePort()),
    PREGON_PG_PORT: String(pgPort),
    PREGON_AWS_PORT: String(await freePort()),
    PREGON_MAILBOX_PORT: String(await freePort()),
    PREGON_DATA_DIR: dataDir,
    PREGON_BOOTSTRAP_API_KEY: key,
    PREGON_EMAIL_FROM: settings.email.from,
    PREGON_EMAIL_SENDERS: settings.email.senders.join(","),
    AWS_ENDPOINT_URL_SESV2: bench.stack.mailboxUrl,
    LOG_LEVEL: "INFO",
    POWERTOOLS_DEV: "false",
    POWERTOOLS_METRICS_DISABLED: "true",
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${env.PORT}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const inMailbox = async () =>
    (await bench.mailboxRecipients()).filter((to) => to.startsWith(`${tag}-`)).length;

  let stack = npmStart(env);
  const sql = postgres(`postgres://postgres:postgres@127.0.0.1:${pgPort}/pregon`, {
    max: 2,
    onnotice: () => {},
  });
  try {
    await stack.ready;
    await bench.clearMailbox();
    const template = await api("PUT", "/v1/templates/bench-kill", {
      subject: "Kill run {{ i }}",
      html: "<p>Recipient {{ i }} of the kill run.</p>",
      text: "Recipient {{ i }} of the kill run.",
    });
    if (template.status !== 200) throw new Error(`template: ${template.status}`);
    const start = performance.now();
    const email = await api("POST", "/v1/emails", {
      to: Array.from({ length: emails }, (_, i) => ({
        email: `${tag}-${i}@pregon.bench`,
        variables: { i },
      })),
      template: { key: "bench-kill" },
    });
    const text = await api("POST", "/v1/sms", {
      to: Array.from({ length: sms }, (_, i) => `+34622${String(i).padStart(6, "0")}`),
      text: "Kill run",
    });
    if (email.status !== 202 || text.status !== 202) {
      throw new Error(`sends answered ${email.status} and ${text.status}`);
    }
    const answers: Answer[] = [
      {
        kind: "email",
        status: email.status,
        at: 0,
        ms: performance.now() - start,
        accepted: (email.body.recipients as { accepted: number }).accepted,
        id: email.body.id as string,
      },
    ];

    await waitFor(async () => (await inMailbox()) >= killAfter, 60_000, 20);
    const killedAt = performance.now() - start;
    stack.signal("SIGKILL");
    await stack.exited;
    const atKill = await inMailbox();

    const restart = performance.now();
    stack = npmStart(env);
    await stack.ready;
    const restartedMs = performance.now() - restart;
    const requeuedAtStart = Number(
      /"message":"deliveries queued again after a restart"[^\n]*"pending":(\d+)/.exec(
        stack.output(),
      )?.[1] ?? 0,
    );

    // Everything of both sends settled: the message a sender held at the kill comes back one
    // lease after the start.
    const ids = [email.body.id as string, text.body.id as string];
    const pending = async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from deliveries
        where notification_id = any(${ids}::uuid[]) and status in ('queued', 'sending')`;
      return row!.n;
    };
    const drainMs = leaseMs + config.drainSeconds * 1000;
    const settled = await waitFor(async () => (await pending()) === 0, drainMs, 250);
    const settledMs = performance.now() - restart;

    const result = await reconcile(bench, sql, tag, answers);
    const smsStatuses = Object.fromEntries(
      (
        await sql<{ status: string; n: number }[]>`
          select status, count(*)::int as n from deliveries where notification_id = ${ids[1]!}
          group by status`
      ).map((row) => [row.status, row.n]),
    );
    const notSent = (statuses: Record<string, number>) =>
      Object.entries(statuses)
        .filter(([status]) => status !== "sent" && status !== "delivered")
        .reduce((sum, [, n]) => sum + n, 0);
    const failures: string[] = [];
    if (result.lost) failures.push(`kill: ${result.lost} email recipients lost`);
    if (notSent(result.statuses)) {
      failures.push(`kill: ${notSent(result.statuses)} emails not sent`);
    }
    if (notSent(smsStatuses)) failures.push(`kill: ${notSent(smsStatuses)} SMS not sent`);
    if (!settled) failures.push(`kill: not drained in ${seconds(drainMs)}`);
    if (result.duplicates > sendConcurrency) {
      failures.push(`kill: ${result.duplicates} duplicates, more than ${sendConcurrency} allowed`);
    }
    const what = `the whole local stack (\`npm start\`: its Postgres, fauxqs with every queue, the senders, the API) killed with SIGKILL at ${num(killedAt / 1000, 1)} s, with ${num(atKill)} of ${num(emails)} emails in the mailbox; started again on the same data dir and ports (ready in ${seconds(restartedMs)})`;
    const rows = [
      `| fault | ${what} |`,
      `| sends | one email to ${num(emails)} recipients with a stored template (${num(result.accepted)} accepted), one SMS to ${num(sms)} numbers, both answered 202 before the kill |`,
      `| at the restart | ${num(requeuedAtStart)} deliveries still \`queued\` or \`sending\` put back on their channel's queue (\`Delivery.republishPending\`); the ones a sender held at the kill came back one lease (${seconds(leaseMs)}) after the start |`,
      `| drain | ${settled ? "settled" : "**not settled**"} ${seconds(settledMs)} after the restart |`,
      `| email deliveries once drained | ${statusList(result.statuses)} |`,
      `| SMS deliveries once drained | ${statusList(smsStatuses)} (the local SMS inbox lived in the killed process: counted in Postgres only) |`,
      `| emails in the mailbox | ${num(result.inMailbox)} |`,
      `| **lost** | **${num(result.lost + notSent(result.statuses) + notSent(smsStatuses))}** |`,
      `| **duplicates** | **${num(result.duplicates)}** (allowed: ≤ ${sendConcurrency}, the sends in flight when SES had answered and \`sent\` was not yet written) |`,
    ];
    return { what, rows, failures, answers };
  } finally {
    stack.signal("SIGTERM");
    await Promise.race([stack.exited, sleep(15_000)]);
    await sql.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}
