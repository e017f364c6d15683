// Section 4, load: mixed traffic at a fixed rate for BENCH_LOAD_SECONDS (120 by default) with the
// whole pipeline running; then the drain and the reconciliation: no 5xx, nothing lost.
import postgres from "postgres";
import type { BenchConfig, Section } from "./config";
import { issueOtps } from "./otps";
import { defaultSendRate, startPipeline } from "./pipeline";
import type { BenchStack } from "./stack";
import { num, seconds } from "./stats";
import { drain, drive, latencyHeader, latencyRows, reconcile, statusList } from "./traffic";

export async function load(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rate, seconds: duration } = config.load;
  const tag = "load";
  const project = await bench.project("bench-load");
  const pipeline = await startPipeline(bench.stack, { prefix: "bload" });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  try {
    await bench.clearMailbox();
    const codes = await issueOtps(sql, project.id, Math.ceil((rate * duration) / 4) + 1);
    const start = performance.now();
    const answers = await drive({
      apiUrl: bench.apiUrl,
      secret: project.secret,
      rate,
      seconds: duration,
      tag,
      codes,
    });
    const trafficMs = performance.now() - start;
    const drained = await drain(bench, sql, pipeline, tag, config.drainSeconds * 1000);
    const result = await reconcile(bench, sql, tag, answers);
    const fivexx = answers.filter((a) => a.status >= 500 || a.status === 0).length;
    const failures = [
      ...(fivexx ? [`load: ${fivexx} answers were 5xx or missing`] : []),
      ...(result.lost ? [`load: ${result.lost} recipients lost`] : []),
      ...(result.duplicates ? [`load: ${result.duplicates} duplicate emails without a fault`] : []),
    ];
    const verified = answers.filter((a) => a.kind === "otp verify" && a.status === 200).length;
    const markdown = `${num(rate)} requests/s for ${num(duration)} s (${num(answers.length)} requests, open loop: each starts on schedule, answered or not), from this process to the API on loopback, while the senders, audit and feedback consumers run beside it (email sender paced at ${defaultSendRate}/s, as \`npm start\`). Per 4 requests: 2 emails to 1–3 recipients each, 1 one-time code sent by email, 1 code checked (${num(verified)} checks answered; each a different pending code, right code). The traffic took ${seconds(trafficMs)}.

${latencyHeader}
${latencyRows(answers).join("\n")}

| after the run | |
| --- | --- |
| recipients accepted (2xx answers) | ${num(result.accepted)} |
| their deliveries, by status, once drained | ${statusList(result.statuses)} |
| drained (every delivery settled) | ${drained.settled ? `${seconds(drained.settledMs)} after the last answer` : `**not within ${config.drainSeconds} s**`} |
| emails in the mailbox | ${num(result.inMailbox)} |
| lost (accepted, not settled or not in the mailbox) | **${num(result.lost)}** |
| duplicate emails | ${num(result.duplicates)} |
| 5xx or no answer | **${num(fivexx)}** |

The rate is what these 2 cores carry with the senders running and leave room for the noise of a shared machine; the API section above shows the accept path alone goes much faster.`;
    return { title: "4. Load", markdown, failures };
  } finally {
    await pipeline.stop();
    await sql.end();
  }
}
