// Section 2, bulk: one POST /v1/emails with 10,000 recipients, timed to the 202, to every queue
// message published (outbox rows with published_at) and to every recipient in the local mailbox;
// beside each round, a raw unnest INSERT of the same 10,000 delivery rows (the baseline).
import { Clock } from "@pregon/core";
import postgres from "postgres";
import type { BenchConfig, Section } from "./config";
import { startPipeline } from "./pipeline";
import type { BenchStack } from "./stack";
import { median, num, ratio, seconds, waitFor } from "./stats";

const roundTimeoutMs = 180_000;

export interface BulkFigures {
  recipients: number;
  /** Recipients accepted per second of the request, and rows per second of the raw INSERT. */
  api: number;
  raw: number;
}

interface Round {
  acceptedMs: number;
  enqueuedMs: number;
  mailboxMs: number;
  inMailbox: number;
  baselineMs: number;
}

export async function bulk(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rounds, recipients: n, sendRate } = config.bulk;
  const project = await bench.project("bench-bulk");
  const pipeline = await startPipeline(bench.stack, { prefix: "bbulk", sendRate });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const results: Round[] = [];
  const failures: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      await bench.clearMailbox();
      const addresses = Array.from({ length: n }, (_, i) => `bulk${round}-${i}@pregon.bench`);
      const since = Clock.now();
      const start = performance.now();
      const response = await fetch(`${bench.apiUrl}/v1/emails`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${project.secret}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          to: addresses,
          subject: "Bulk {{ n }}",
          html: "<p>Hello, this is bulk round {{ n }}.</p>",
          text: "Hello, this is bulk round {{ n }}.",
          variables: { n: round },
        }),
      });
      const acceptedMs = performance.now() - start;
      const body = (await response.json()) as { id: string };
      if (response.status !== 202) throw new Error(`bulk send answered ${response.status}`);

      const messages = Math.ceil(n / 50);
      const published = await waitFor(async () => {
        const [row] = await sql<{ published: number }[]>`
          select count(published_at)::int as published from outbox
          where topic = 'email' and created_at >= ${since}`;
        return row!.published >= messages;
      }, roundTimeoutMs);
      const [last] = await sql<{ at: Date }[]>`
        select max(published_at) as at from outbox where topic = 'email' and created_at >= ${since}`;
      const enqueuedMs = last!.at.getTime() - since.getTime();

      const sent = await waitFor(
        async () => {
          const [row] = await sql<{ sent: number }[]>`
            select count(*)::int as sent from deliveries
            where notification_id = ${body.id} and status = 'sent'`;
          return row!.sent >= n;
        },
        roundTimeoutMs,
        200,
      );
      const mailboxMs = performance.now() - start;
      const inMailbox = (await bench.mailboxRecipients()).filter((to) =>
        to.startsWith(`bulk${round}-`),
      ).length;
      if (!published || !sent || inMailbox !== n) {
        failures.push(
          `bulk round ${round + 1}: ${inMailbox} of ${n} in the mailbox${published ? "" : ", not all published"}`,
        );
      }
      results.push({ acceptedMs, enqueuedMs, mailboxMs, inMailbox, baselineMs: await rawInsert() });
    }
  } finally {
    await pipeline.stop();
    await sql.end();
  }

  /** The same delivery rows, one `unnest` INSERT (autocommit), under a notification of its own. */
  async function rawInsert(): Promise<number> {
    const [notification] = await sql<{ id: string }[]>`
      insert into notifications (project_id, channel, content, variables, tags, accepted,
                                 suppressed, duplicates, created_at)
      values (${project.id}, 'email', '{}', '{}', '{}', ${n}, 0, 0, now()) returning id`;
    const positions = Array.from({ length: n }, (_, i) => i);
    const addresses = positions.map((i) => `raw-${i}@pregon.bench`);
    const start = performance.now();
    await sql`
      insert into deliveries (notification_id, project_id, position, address, status,
                              created_at, updated_at)
      select ${notification!.id}, ${project.id}, r.position, r.address, 'queued', now(), now()
      from unnest(${positions}::int[], ${addresses}::text[]) as r(position, address)`;
    const elapsed = performance.now() - start;
    // Never sent (no queue message names them): removed so no later check counts them.
    await sql`delete from deliveries where notification_id = ${notification!.id}`;
    await sql`delete from notifications where id = ${notification!.id}`;
    return elapsed;
  }

  const m = (pick: (round: Round) => number) => median(results.map(pick));
  const apiRowsPerSecond = n / (m((r) => r.acceptedMs) / 1000);
  const rawRowsPerSecond = n / (m((r) => r.baselineMs) / 1000);
  const rows = results.map(
    (r, i) =>
      `| ${i + 1} | ${seconds(r.acceptedMs)} | ${seconds(r.enqueuedMs)} | ${seconds(r.mailboxMs)} | ${num(r.inMailbox)} | ${seconds(r.baselineMs)} |`,
  );
  const markdown = `${rounds} round(s) of one \`POST /v1/emails\` with ${num(n)} distinct recipients (inline subject, HTML and text with a variable). The email sender is paced at ${num(sendRate)} emails/s here (\`npm start\` uses 200/s, which would make the last column a pacing figure: ${num(n)} ÷ 200 = ${num(n / 200)} s); one poller feeds it, 10 messages of 50 deliveries per invocation, 8 sends at a time, as configured locally.

| round | to 202 accepted | to every queue message published | to all ${num(n)} in the mailbox | in the mailbox | raw unnest INSERT of the rows |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}
| **median** | **${seconds(m((r) => r.acceptedMs))}** | **${seconds(m((r) => r.enqueuedMs))}** | **${seconds(m((r) => r.mailboxMs))}** | | **${seconds(m((r) => r.baselineMs))}** |

| rows/s | median |
| --- | --- |
| API: recipients accepted per second of the request (${num(n)} ÷ time to 202) | ${num(apiRowsPerSecond)} |
| baseline: raw \`unnest\` INSERT of the same ${num(n)} delivery rows | ${num(rawRowsPerSecond)} |
| API ÷ baseline | ${ratio(apiRowsPerSecond / rawRowsPerSecond)} |
| end to end: recipients in the mailbox per second (${num(n)} ÷ time to mailbox) | ${num(n / (m((r) => r.mailboxMs) / 1000))} |

The time to 202 covers validation, de-duplication, the subject renders (one here: the recipients have no variables of their own), the limits, the suppression check and the one transaction (notification, ${num(n)} deliveries via \`json_to_recordset\`, ${num(Math.ceil(n / 50))} outbox rows); publishing is timed from the request's start to the last outbox row's \`published_at\`. The baseline inserts only the delivery rows (same columns that matter, one statement, its own commit).`;
  return {
    title: "2. Bulk",
    markdown,
    failures,
    figures: { bulk: { recipients: n, api: apiRowsPerSecond, raw: rawRowsPerSecond } },
  };
}
