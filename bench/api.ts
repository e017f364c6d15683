// Section 1, API overhead: POST /v1/emails (1 recipient) and POST /v1/otp/verify under autocannon,
// against bench/baseline.ts (bare node:http, same core calls), alternating in rounds; medians.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { startBaseline } from "./baseline";
import type { CannonPlan, CannonResult } from "./cannon";
import type { BenchConfig, Section } from "./config";
import { type IssuedOtp, issueOtps, writeVerifyBodies } from "./otps";
import { startPipeline } from "./pipeline";
import type { BenchStack } from "./stack";
import { median, ms, num, ratio } from "./stats";

const cannonFile = fileURLToPath(new URL("./cannon.ts", import.meta.url));

function cannon(plan: CannonPlan): Promise<CannonResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", cannonFile, JSON.stringify(plan)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.on("error", fail);
    child.on("exit", (code) => {
      const line = out.trim().split("\n").at(-1);
      if (code === 0 && line) done(JSON.parse(line) as CannonResult);
      else fail(new Error(`autocannon exited with ${code}: ${out}`));
    });
  });
}

const emailBody = JSON.stringify({
  to: ["overhead@pregon.bench"],
  subject: "Hello {{ name }}",
  html: "<p>Hello {{ name }}, this is a benchmark.</p>",
  text: "Hello {{ name }}, this is a benchmark.",
  variables: { name: "there" },
});

type Endpoint = "emails" | "verify";
type Target = "api" | "baseline";

export async function apiOverhead(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rounds, warmupSeconds, seconds, connections } = config.api;
  const project = await bench.project("bench-api");
  // Nobody consumes: only the accept path is measured, not senders competing for the 2 cores.
  const pipeline = await startPipeline(bench.stack, { prefix: "bapi", consumers: false });
  const baseline = await startBaseline(project.id);
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const dir = await mkdtemp(join(tmpdir(), "pregon-bench-api-"));
  const results = new Map<string, CannonResult[]>();
  // Codes for verify: each request consumes one; the pool is topped up before every run.
  let pool: IssuedOtp[] = [];
  let fastest = 1_500;
  const failures: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const targets: Target[] = round % 2 ? ["baseline", "api"] : ["api", "baseline"];
      for (const endpoint of ["emails", "verify"] as Endpoint[]) {
        for (const target of targets) {
          const plan: CannonPlan = {
            url:
              target === "api"
                ? `${bench.apiUrl}/v1/${endpoint === "emails" ? "emails" : "otp/verify"}`
                : `${baseline.url}/${endpoint}`,
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(target === "api" && { authorization: `Bearer ${project.secret}` }),
            },
            connections,
            warmupSeconds,
            seconds,
          };
          if (endpoint === "emails") plan.body = emailBody;
          else {
            const needed = Math.ceil(fastest * (warmupSeconds + seconds) * 1.5);
            if (pool.length < needed) pool = pool.concat(await issueOtps(sql, project.id, needed));
            plan.bodiesFile = join(dir, `verify-${round}-${target}.jsonl`);
            await writeVerifyBodies(plan.bodiesFile, pool);
          }
          const result = await cannon(plan);
          if (endpoint === "verify") {
            if (result.bodiesUsed > pool.length) {
              failures.push(`verify ${target}: the pool of codes ran out (some checks re-used)`);
            }
            pool = pool.slice(result.bodiesUsed);
          }
          fastest = Math.max(fastest, result.requestsPerSecond);
          const key = `${endpoint}/${target}`;
          results.set(key, [...(results.get(key) ?? []), result]);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sql.end();
    await baseline.close();
    await pipeline.purge();
    await pipeline.stop();
  }

  const rows: string[] = [];
  for (const endpoint of ["emails", "verify"] as Endpoint[]) {
    const of = (target: Target) => {
      const runs = results.get(`${endpoint}/${target}`) ?? [];
      return {
        rps: median(runs.map((r) => r.requestsPerSecond)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        non2xx: runs.reduce((n, r) => n + r.non2xx + r.errors, 0),
        each: runs.map((r) => num(r.requestsPerSecond)).join(", "),
        statuses: runs.map((r) => JSON.stringify(r.statuses)).join(" "),
      };
    };
    const api = of("api");
    const base = of("baseline");
    const name =
      endpoint === "emails" ? "`POST /v1/emails` (1 recipient)" : "`POST /v1/otp/verify`";
    rows.push(
      `| ${name} | API | ${num(api.rps)} (${api.each}) | ${ms(api.p50)} | ${ms(api.p99)} | ${api.non2xx} | ${ratio(api.rps / base.rps)} | ${ratio(api.p50 / base.p50)} |`,
      `| | baseline | ${num(base.rps)} (${base.each}) | ${ms(base.p50)} | ${ms(base.p99)} | ${base.non2xx} | | |`,
    );
    for (const [target, of] of [
      ["API", api],
      ["baseline", base],
    ] as const) {
      if (of.non2xx > 0) {
        failures.push(
          `${endpoint} ${target}: ${of.non2xx} non-2xx answers or errors (${of.statuses})`,
        );
      }
    }
  }
  const markdown = `autocannon, ${connections} connections, ${rounds} round(s) of ${seconds} s per target after a ${warmupSeconds} s warm-up, API and baseline alternating (ABBA); medians of the rounds, each round's req/s in brackets. The load generator runs in its own process.

| endpoint | target | req/s | p50 | p99 | non-2xx + errors | req/s API ÷ baseline | p50 API ÷ baseline |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

- **API**: the Hono app \`npm start\` serves, with a full-scope key: authentication (a key lookup), zod validation, the rate-limit counters (two upserts), the suppression list, template compile and subject render, the transaction (notification + delivery + outbox rows), then the SNS publish to fauxqs and the outbox update. Verify: the key lookup, then \`Otp.verify\` (one statement), and on success the \`otp.verified\` fact (outbox row + publish).
- **Baseline**: a bare \`node:http\` handler calling the same core writes directly: \`Notification.write\` in one transaction, whose after-commit effect publishes to SNS, and \`Otp.verify\` — no framework, authentication, limits, suppression, idempotency or template checks.
- Every verify checks a different pending code (written in bulk beforehand) with the right code, so both sides take the \`valid: true\` path.
- The senders are not running in this section (the queue is purged after it), so only the accept path competes for the CPU.`;
  return { title: "1. API overhead", markdown, failures };
}
