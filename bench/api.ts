// Section 1, the API: `GET /v1/me`, `POST /v1/emails` (1 recipient) and `POST /v1/otp/verify`,
// each through REST and through tRPC, beside the bare node:http baseline (bench/baseline.ts), with
// the server under `npm start`'s settings and under production's: one server process per mode
// (bench/server.ts), alive side by side, every target of every mode in each round, in an order
// that rotates; autocannon; medians. BENCH_PROFILE=1 runs both servers under --cpu-prof and sums
// where their CPU went, path by path.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type CannonPlan, startCannon } from "./cannon";
import { type Mode, modes, type ServerChild, spawnServer } from "./child";
import type { BenchConfig, Endpoint, Section } from "./config";
import { measure, type Run, type Summary, summary } from "./measure";
import { codePool } from "./otps";
import { startPipeline } from "./pipeline";
import { type CpuProfile, summarise } from "./profile";
import type { ServerConfig } from "./server";
import type { BenchStack } from "./stack";
import { ms, num, ratio } from "./stats";

export const targets = ["rest", "trpc", "baseline"] as const;
export type Target = (typeof targets)[number];

export const emailBody = JSON.stringify({
  to: ["overhead@pregon.bench"],
  subject: "Hello {{ name }}",
  html: "<p>Hello {{ name }}, this is a benchmark.</p>",
  text: "Hello {{ name }}, this is a benchmark.",
  variables: { name: "there" },
});

const routes: Record<Endpoint, Record<Target, [CannonPlan["method"], string, string]>> = {
  me: {
    rest: ["GET", "api", "/v1/me"],
    trpc: ["GET", "api", "/trpc/me.get"],
    baseline: ["GET", "baseline", "/me"],
  },
  emails: {
    rest: ["POST", "api", "/v1/emails"],
    trpc: ["POST", "api", "/trpc/emails.send"],
    baseline: ["POST", "baseline", "/emails"],
  },
  verify: {
    rest: ["POST", "api", "/v1/otp/verify"],
    trpc: ["POST", "api", "/trpc/otp.verify"],
    baseline: ["POST", "baseline", "/verify"],
  },
};

export const labels: Record<Endpoint, string> = {
  me: "`GET /v1/me`",
  emails: "`POST /v1/emails` (1 recipient)",
  verify: "`POST /v1/otp/verify`",
};
const targetLabels: Record<Target, string> = { rest: "REST", trpc: "tRPC", baseline: "baseline" };

/** The request autocannon repeats (verify: its bodies come from a file of codes). */
export function planOf(
  server: ServerChild,
  endpoint: Endpoint,
  target: Target,
  secret: string,
  connections: number,
): Omit<CannonPlan, "seconds"> {
  const [method, base, path] = routes[endpoint][target];
  return {
    url: `${server.urls[base]}${path}`,
    method,
    headers: {
      authorization: `Bearer ${secret}`,
      ...(method === "POST" && { "content-type": "application/json" }),
    },
    connections,
    ...(endpoint === "emails" && { body: emailBody }),
  };
}

/** Codes a verify run may use: its duration at the fastest rate seen yet, and half as many again. */
const codesFor = (rps: number, seconds: number) => Math.ceil(Math.max(rps, 1_500) * seconds * 1.5);

/** By mode and endpoint (those BENCH_ENDPOINTS chose), by target. */
export type ApiFigures = Record<Mode, Partial<Record<Endpoint, Record<Target, Summary>>>>;

export async function apiOverhead(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rounds, warmupSeconds, seconds, connections, endpoints } = config.api;
  const project = await bench.project("bench-api");
  // Nobody consumes: only the accept path is measured, not senders competing for the 2 cores.
  const pipeline = await startPipeline(bench.stack, { prefix: "bapi", consumers: false });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const dir = await mkdtemp(join(tmpdir(), "pregon-bench-api-"));
  const codes = codePool(sql, project.id, dir);
  const cannon = startCannon();
  const serverConfig: ServerConfig = {
    databaseUrl: bench.appDatabaseUrl,
    aws: bench.stack.aws,
    topics: pipeline.topics,
    bucket: bench.stack.bucket,
    projectId: project.id,
  };
  const servers = new Map<Mode, ServerChild>();
  const runs = new Map<string, Run[]>();
  let fastest = 0;
  const failures: string[] = [];
  let profiles = "";

  /** One measured run of `endpoint` through `target` on `server`. */
  async function run(server: ServerChild, endpoint: Endpoint, target: Target) {
    const plan = planOf(server, endpoint, target, project.secret, connections);
    if (endpoint === "verify") {
      plan.bodiesFile = await codes.bodies(codesFor(fastest, warmupSeconds + seconds), "right");
    }
    const result = await measure(cannon, plan, {
      warmupSeconds,
      seconds,
      serverPid: server.pid,
      postgresPid: bench.postgresPid(),
    });
    if (endpoint === "verify") codes.consume(result.bodiesUsed, "right");
    fastest = Math.max(fastest, result.requestsPerSecond);
    return result;
  }

  const profileFolder = (mode: Mode) => join(dir, `profile-${mode.replace(/\W/g, "-")}`);
  const profileFiles = new Map<Mode, string | undefined>();
  try {
    await Promise.all(
      modes.map(async (mode) => {
        const profile = config.profile ? profileFolder(mode) : undefined;
        servers.set(mode, await spawnServer("./server.ts", serverConfig, { mode, profile }));
      }),
    );
    for (let round = 0; round < rounds; round++) {
      // Each round visits the modes and targets in another order, so no target always runs
      // first (or right after the same one).
      const order = <T>(list: readonly T[]) => list.map((_, i) => list[(i + round) % list.length]!);
      for (const mode of order(modes)) {
        for (const endpoint of endpoints) {
          for (const target of order(targets)) {
            const result = await run(servers.get(mode)!, endpoint, target);
            const key = `${mode}/${endpoint}/${target}`;
            runs.set(key, [...(runs.get(key) ?? []), result]);
          }
        }
      }
    }
    for (const [mode, server] of servers) profileFiles.set(mode, await server.stop());
    servers.clear();
    failures.push(...(await codes.check()));
    if (config.profile) profiles = await profile();
  } finally {
    cannon.stop();
    await Promise.all([...servers.values()].map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
    await sql.end();
    await pipeline.purge();
    await pipeline.stop();
  }

  /** Per mode and profiled path: the top functions over that path's measured runs. */
  async function profile(): Promise<string> {
    const paths = (
      [
        ["me", "rest"],
        ["me", "trpc"],
        ["emails", "rest"],
        ["emails", "baseline"],
        ["verify", "rest"],
      ] as Array<[Endpoint, Target]>
    ).filter(([endpoint]) => endpoints.includes(endpoint));
    const sections: string[] = [];
    for (const mode of modes) {
      const file = profileFiles.get(mode);
      if (!file) throw new Error(`the ${mode} server wrote no CPU profile`);
      const cpuProfile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
      const rows: string[] = [];
      for (const [endpoint, target] of paths) {
        const measured = runs.get(`${mode}/${endpoint}/${target}`) ?? [];
        const requests = measured.reduce((n, r) => n + r.requests, 0);
        const { busyMs, windowMs, functions, packages } = summarise(
          cpuProfile,
          measured.map((r) => r.window),
        );
        const perRequest = (value: number) => `${num((value * 1000) / requests)} µs`;
        rows.push(
          `| ${labels[endpoint]} ${targetLabels[target]} | busy ${num((busyMs / windowMs) * 100)}% of ${num(windowMs / 1000, 1)} s: ${perRequest(busyMs)} per request | | |`,
          ...functions.map(
            (f, i) =>
              `| ${i + 1}. | \`${f.name}\`${f.where ? ` ${f.where.replace(/\|/g, "\\|")}` : ""} | ${perRequest(f.ms)} | ${num(f.share * 100)}% |`,
          ),
          `| | by package: ${packages.map((p) => `${p.name} ${num(p.share * 100)}%`).join(", ")} | | |`,
        );
      }
      sections.push(`#### Server under ${mode === "npm start" ? "`npm start`'s settings" : "production's settings"}

| path | top 5 functions by self time | self time per request | of busy time |
| --- | --- | --- | --- |
${rows.join("\n")}`);
    }
    return `### Where the time goes (\`BENCH_PROFILE=1\`)

Both servers above ran under \`node --cpu-prof\` (V8's sampling profiler, a sample every 1 ms; its cost is in every number above, alike for every target), and each profile is cut to the measured runs of one path (the emails baseline's too, the same server process, to set the API's beside it). Self time is the time a function was itself on the CPU (not its callees), summed over every place it ran; a sample counts for at most 2 ms, since a longer gap before the next one is time the process was not scheduled, not time spent in that function; "busy" is the share of those runs the server's main thread was not idle. \`(garbage collector)\` and \`(program)\` (V8 and native work outside JavaScript) count as functions; the package line sums self time by package (\`node (built-in)\`: Node's own JavaScript; \`(V8 and native)\`: functions without a script, such as socket writes). Postgres is not in these profiles: the CPU column above has it.

${sections.join("\n\n")}`;
  }

  const figures = {} as ApiFigures;
  const rows: string[] = [];
  for (const endpoint of endpoints) {
    for (const mode of modes) {
      const of = Object.fromEntries(
        targets.map((target) => [target, summary(runs.get(`${mode}/${endpoint}/${target}`) ?? [])]),
      ) as Record<Target, Summary>;
      figures[mode] ??= {} as ApiFigures[Mode];
      figures[mode][endpoint] = of;
      for (const target of targets) {
        const s = of[target];
        const vsBase = target === "baseline" ? "" : ratio(s.rps / of.baseline.rps);
        const vsTrpc = target === "rest" ? ratio(s.rps / of.trpc.rps) : "";
        rows.push(
          `| ${target === "rest" ? `${labels[endpoint]}` : ""} | ${target === "rest" ? mode : ""} | ${targetLabels[target]} | ${num(s.rps)} (${s.each.map((r) => num(r)).join(", ")}) | ${ms(s.p50)} | ${ms(s.p99)} | ${num(s.cpuMsPerRequest, 2)} ms | ${s.failed} | ${vsBase} | ${vsTrpc} |`,
        );
        if (s.failed > 0) {
          failures.push(
            `${mode} ${endpoint} ${target}: ${s.failed} non-2xx answers or errors (${s.statuses})`,
          );
        }
      }
    }
  }
  const markdown = `autocannon, ${connections} connections, ${rounds} round(s) of ${seconds} s per target after a ${warmupSeconds} s warm-up; in each round every mode and target once, in an order that rotates from round to round; medians of the rounds, each round's req/s in brackets. The load generator runs in its own process, and so does each server.

| endpoint | server settings | target | req/s | p50 | p99 | CPU per request (server + Postgres) | non-2xx + errors | req/s ÷ baseline | REST ÷ tRPC |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

- **Server settings**: one server process per mode, both started before the first round (\`bench/server.ts\`: the Hono app and the baseline, configured as \`npm start\` configures them, the app connecting as the application role). **npm start**: what \`npm start\` sets (\`packages/local/src/defaults.ts\`, imported first: log lines pretty-printed, no metric lines), \`NODE_ENV\` unset (trpc-to-openapi then generates the OpenAPI document once, to validate the router, when the REST handler is built at the first REST request), logs at INFO. **production**: what the functions get on AWS (\`infra/functions.ts\`): \`NODE_ENV=production\`, logs at INFO as JSON lines, metrics as EMF lines. Log output goes to /dev/null in both.
- **REST** and **tRPC**: the same procedures (\`me.get\`, \`emails.send\`, \`otp.verify\`) through \`/v1\` (trpc-to-openapi) and \`/trpc\` (tRPC's fetch adapter), with a full-scope key: authentication (a key lookup), zod validation, then the procedure. Emails: one read of the limits, their counters and the suppression list (one statement), template compile (parsed sources are remembered) and subject render, then the transaction (notification + delivery + outbox rows, the counters' upsert), then the SNS publish to fauxqs and the outbox update. Verify: \`Otp.verify\` (one statement), and on success the \`otp.verified\` fact (outbox row + publish).
- **Baseline**: a bare \`node:http\` handler calling the same core functions directly: for \`/me\` the key lookup (\`ApiKey.authenticate\`) and the project and key reads \`me.get\` makes; \`Notification.write\` in one transaction, whose after-commit effect publishes to SNS; \`Otp.verify\` — no framework, no validation, limits, suppression, idempotency, template checks or logging, and for emails and verify no authentication.
- **CPU per request**: user + system time of the server process and of every Postgres process over the measured run (from /proc), divided by the requests answered. fauxqs (SNS, in the bench's process) is not in it.
- Every verify checks a different pending code (written in bulk beforehand) with the right code, so every target takes the \`valid: true\` path (checked afterwards in Postgres).
- The senders are not running in this section (the queues are purged after it), so only the accept path competes for the CPU.${profiles ? `\n\n${profiles}` : ""}`;
  return {
    title: "1. API: REST, tRPC and a bare baseline, in both modes",
    markdown,
    failures,
    figures: { api: figures },
  };
}
