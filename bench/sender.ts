// Section 7, the email sender against a bare SES-client loop: the same number of emails into the
// same local mailbox (aws-ses-v2-local), through the real email sender (pacing off) driven by its
// poller, and through a loop of one SendEmailCommand per email at the sender's concurrency; the two
// alternating in rounds; medians.
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Email } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { startPoller } from "@pregon/local/poller";
import { consumerTimeoutSeconds } from "@pregon/pipelines";
import postgres from "postgres";
import { cpuMs, postgresCpuMs } from "./child";
import type { BenchConfig, Section } from "./config";
import { type Pipeline, startPipeline } from "./pipeline";
import { region, settings } from "./settings";
import type { BenchStack } from "./stack";
import { median, num, ratio, seconds, waitFor } from "./stats";

const roundName = (round: number) => (round < 0 ? "warm-up round" : `round ${round + 1}`);

/** Sends in flight in one email sender (the dispatcher's default concurrency). */
const concurrency = 8;
const subject = "Hello there";
const html = "<p>Hello there, this is a benchmark.</p>";
const text = "Hello there, this is a benchmark.";

export interface SenderFigures {
  emails: number;
  /** Emails per second, medians of the rounds. */
  sender: number;
  bare: number;
  /** CPU ms per email, bench process + Postgres, medians of the rounds. */
  senderCpuMs: number;
  bareCpuMs: number;
}

export async function sender(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rounds, emails: n } = config.sender;
  const project = await bench.project("bench-sender");
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const ses = new SESv2Client({ ...bench.stack.aws, endpoint: bench.stack.mailboxUrl });
  const sqs = new SQSClient(bench.stack.aws);
  const results = { sender: [] as number[], bare: [] as number[] };
  /** CPU ms per email (the bench's process, where SES, the queues and the sender run, + Postgres). */
  const cpuPerEmail = { sender: [] as number[], bare: [] as number[] };
  const cpu = () => cpuMs(process.pid) + postgresCpuMs(bench.postgresPid());
  const failures: string[] = [];

  /** The sender's time to send `n` emails already on its queue, from its poller's start. */
  async function viaSender(round: number): Promise<number> {
    // Queues of its own each round: a stopped poller's last long poll can still take messages.
    const pipeline = await startPipeline(bench.stack, {
      prefix: `bsend${round}`,
      consumers: false,
    });
    try {
      return await sendThrough(pipeline, round);
    } finally {
      await pipeline.purge();
      await pipeline.stop();
    }
  }

  async function sendThrough(pipeline: Pipeline, round: number): Promise<number> {
    const response = await fetch(`${bench.apiUrl}/v1/emails`, {
      method: "POST",
      headers: { authorization: `Bearer ${project.secret}`, "content-type": "application/json" },
      body: JSON.stringify({
        to: Array.from({ length: n }, (_, i) => `sender${round}-${i}@pregon.bench`),
        subject,
        html,
        text,
      }),
    });
    if (response.status !== 202) throw new Error(`the send answered ${response.status}`);
    const { id } = (await response.json()) as { id: string };
    const count = async (status: string) => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from deliveries
        where notification_id = ${id} and status = ${status}`;
      return row!.n;
    };
    const start = performance.now();
    const cpuBefore = cpu();
    const poller = startPoller(sqs, region, {
      name: "email-sender",
      queueUrl: pipeline.queues.email.url,
      queueArn: pipeline.queues.email.arn,
      handler: createEmailSender({
        mailer: Email.sesMailer(ses),
        sendRate: Number.POSITIVE_INFINITY,
      }),
      timeoutSeconds: consumerTimeoutSeconds,
    });
    const sent = await waitFor(async () => (await count("sent")) >= n, 120_000, 20);
    const elapsed = performance.now() - start;
    if (round >= 0) cpuPerEmail.sender.push((cpu() - cpuBefore) / n);
    await poller.stop();
    if (!sent) {
      failures.push(
        `sender ${roundName(round)}: ${await count("sent")} of ${n} sent; ${await unsent(id)}`,
      );
    }
    return elapsed;
  }

  /** What the deliveries not sent look like (status, attempts, error, lease), for the report. */
  async function unsent(notificationId: string): Promise<string> {
    const rows = await sql<{ status: string; attempts: number; error: string | null }[]>`
      select status, attempts, error from deliveries
      where notification_id = ${notificationId} and status <> 'sent'
      order by position limit 5`;
    return rows
      .map((row) => `${row.status} after ${row.attempts} attempt(s), error: ${row.error}`)
      .join("; ");
  }

  /** A loop of SendEmailCommand, `concurrency` at a time, as the sender's are. */
  async function bare(round: number): Promise<number> {
    let next = 0;
    const start = performance.now();
    const cpuBefore = cpu();
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        await ses.send(
          new SendEmailCommand({
            FromEmailAddress: settings.email.from,
            Destination: { ToAddresses: [`bare${round}-${i}@pregon.bench`] },
            Content: {
              Simple: {
                Subject: { Data: subject, Charset: "UTF-8" },
                Body: {
                  Html: { Data: html, Charset: "UTF-8" },
                  Text: { Data: text, Charset: "UTF-8" },
                },
              },
            },
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = performance.now() - start;
    if (round >= 0) cpuPerEmail.bare.push((cpu() - cpuBefore) / n);
    return elapsed;
  }

  try {
    // Round -1 warms both up (the JIT, the clients' connections) and is not counted.
    for (let round = -1; round < rounds; round++) {
      const order = round % 2 ? (["bare", "sender"] as const) : (["sender", "bare"] as const);
      for (const who of order) {
        await bench.clearMailbox();
        const elapsed = who === "sender" ? await viaSender(round) : await bare(round);
        const prefix = `${who}${round}-`;
        const inMailbox = (await bench.mailboxRecipients()).filter((to) => to.startsWith(prefix));
        const distinct = new Set(inMailbox).size;
        if (inMailbox.length !== n || distinct !== n) {
          failures.push(
            `${who} ${roundName(round)}: ${inMailbox.length} of ${n} in the mailbox, to ${distinct} recipients`,
          );
        }
        if (round >= 0) results[who].push((n / elapsed) * 1000);
      }
    }
  } finally {
    ses.destroy();
    sqs.destroy();
    await sql.end();
    await bench.clearMailbox();
  }

  const figures: SenderFigures = {
    emails: n,
    sender: median(results.sender),
    bare: median(results.bare),
    senderCpuMs: median(cpuPerEmail.sender),
    bareCpuMs: median(cpuPerEmail.bare),
  };
  const each = (list: number[]) => list.map((r) => num(r)).join(", ");
  const markdown = `${rounds} round(s) of ${num(n)} emails (inline subject, HTML and text) into the local mailbox (aws-ses-v2-local, in the bench's process), the two ways alternating, after a warm-up round of both that is not counted; medians, each round's emails/s in brackets.

| | emails/s | time for ${num(n)} | CPU per email (bench process + Postgres) |
| --- | --- | --- | --- |
| email sender, pacing off (${num(Math.ceil(n / 50))} queue message${n > 50 ? "s" : ""} of up to 50 deliveries) | ${num(figures.sender)} (${each(results.sender)}) | ${seconds((n / figures.sender) * 1000)} | ${num(figures.senderCpuMs, 2)} ms |
| bare loop: one \`SendEmailCommand\` per email, ${concurrency} at a time | ${num(figures.bare)} (${each(results.bare)}) | ${seconds((n / figures.bare) * 1000)} | ${num(figures.bareCpuMs, 2)} ms |
| sender ÷ bare loop | ${ratio(figures.sender / figures.bare)} | | bare ÷ sender: ${ratio(figures.bareCpuMs / figures.senderCpuMs)} |

- **Email sender**: the ${num(n)} recipients accepted by one \`POST /v1/emails\` and on the email queue first; then timed from its poller's start (\`startPoller\` driving \`createEmailSender\` with \`sendRate\` infinite, as \`main.ts\` drives it) to the last delivery recorded \`sent\`: receiving the queue messages (10 at a time), leasing each message's deliveries, loading the notification, rendering, ${concurrency} sends at a time through the SES client, recording each \`sent\` with its fact, publishing the facts, deleting the messages. Nothing else consumes meanwhile (the facts wait on the audit queue, purged after).
- **Bare loop**: the same SES v2 client to the same mailbox, ${concurrency} workers each sending one \`SendEmailCommand\` after another with content already rendered; no queue, no database.
- CPU per email: what the bench's process (the SES emulator, the queue emulator, the sender and its poller, the bare loop's client) and Postgres used over each timed run, from /proc, divided by the emails; medians of the rounds. The bench's process also counts the \`sent\` rows every 20 ms while the sender runs.
- Every email of both is counted in the mailbox afterwards.`;
  return {
    title: "7. Email sender against a bare SES loop",
    markdown,
    failures,
    figures: { sender: figures },
  };
}
