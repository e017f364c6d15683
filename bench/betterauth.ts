// Section 6, OTP verify against Better Auth: `POST /v1/otp/verify` beside Better Auth's email-OTP
// sign-in (`POST /api/auth/sign-in/email-otp`, bench/betterauth-server.ts), on the same Postgres,
// both servers in production mode, each request a different pending code, with the right code and
// with a wrong one; the two alternating in rounds; medians.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { planOf } from "./api";
import type { BetterAuthConfig } from "./betterauth-server";
import { startCannon } from "./cannon";
import { type ServerChild, spawnServer } from "./child";
import type { BenchConfig, Section } from "./config";
import { measure, type Run, type Summary, summary } from "./measure";
import { codePool } from "./otps";
import { startPipeline } from "./pipeline";
import type { ServerConfig } from "./server";
import type { BenchStack } from "./stack";
import { ms, num, ratio } from "./stats";

const paths = ["right", "wrong"] as const;
type Path = (typeof paths)[number];
const servers = ["pregon", "betterAuth"] as const;
type Who = (typeof servers)[number];

export type BetterAuthFigures = Record<Path, Record<Who, Summary>>;

/** What each answers: Pregón 200 either way (`valid` says), Better Auth 200 or 400 `INVALID_OTP`. */
const expected: Record<Who, Record<Path, string>> = {
  pregon: { right: "200", wrong: "200" },
  betterAuth: { right: "200", wrong: "400" },
};

export async function betterAuthVerify(bench: BenchStack, config: BenchConfig): Promise<Section> {
  const { rounds, warmupSeconds, seconds, connections } = config.betterAuth;
  const admin = postgres(bench.stack.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe("drop database if exists better_auth");
  await admin.unsafe("create database better_auth");
  await admin.end();
  const project = await bench.project("bench-better-auth");
  const pipeline = await startPipeline(bench.stack, { prefix: "bba", consumers: false });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const dir = await mkdtemp(join(tmpdir(), "pregon-bench-ba-"));
  const codes = codePool(sql, project.id, dir);
  const cannon = startCannon();
  const children: ServerChild[] = [];
  const runs = new Map<string, Run[]>();
  const failures: string[] = [];
  // Better Auth's codes: sent through its API (about 600 a second here), so issued to measure.
  let theirs: Array<{ email: string; otp: string; at: number }> = [];
  let batches = 0;
  let files = 0;
  const fastest: Record<Who, number> = { pregon: 1_500, betterAuth: 800 };
  try {
    const serverConfig: ServerConfig = {
      databaseUrl: bench.appDatabaseUrl,
      aws: bench.stack.aws,
      topics: pipeline.topics,
      bucket: bench.stack.bucket,
      projectId: project.id,
    };
    const betterAuthConfig: BetterAuthConfig = {
      databaseUrl: bench.stack.adminUrl.replace(/\/postgres$/, "/better_auth"),
    };
    const [ours, better] = await Promise.all([
      spawnServer("./server.ts", serverConfig, { mode: "production" }),
      spawnServer("./betterauth-server.ts", betterAuthConfig, { mode: "production" }),
    ]);
    children.push(ours!, better!);

    /** A bodies file of `needed` of Better Auth's pending codes, right or wrong. */
    async function theirBodies(needed: number, path: Path): Promise<string> {
      // Its codes live 10 minutes (as Pregón's bench codes): older than 5, they are not used.
      theirs = theirs.filter((code) => code.at > Date.now() - 300_000);
      if (theirs.length < needed) {
        const response = await fetch(better!.urls.control!, {
          method: "POST",
          body: JSON.stringify({ prefix: `b${batches++}`, count: needed - theirs.length }),
        });
        if (!response.ok) throw new Error(`Better Auth's codes: ${await response.text()}`);
        const at = Date.now();
        const lines = (await response.text()).trim().split("\n");
        theirs = theirs.concat(lines.map((line) => ({ ...JSON.parse(line), at })));
      }
      const file = join(dir, `better-auth-${files++}.jsonl`);
      const wrong = (otp: string) => (otp === "000000" ? "000001" : "000000");
      await writeFile(
        file,
        `${theirs.map(({ email, otp }) => JSON.stringify({ email, otp: path === "right" ? otp : wrong(otp) })).join("\n")}\n`,
      );
      return file;
    }

    for (let round = 0; round < rounds; round++) {
      for (const path of paths) {
        const order = round % 2 ? [...servers].reverse() : servers;
        for (const who of order) {
          const needed = Math.ceil(fastest[who] * (warmupSeconds + seconds) * 1.3);
          const plan =
            who === "pregon"
              ? {
                  ...planOf(ours!, "verify", "rest", project.secret, connections),
                  bodiesFile: await codes.bodies(needed, path),
                }
              : {
                  url: `${better!.urls.api}/api/auth/sign-in/email-otp`,
                  method: "POST" as const,
                  headers: { "content-type": "application/json" },
                  connections,
                  bodiesFile: await theirBodies(needed, path),
                };
          const available = who === "pregon" ? needed : theirs.length;
          // The codes just written are vacuumed now, not during the run.
          await bench.settle();
          const result = await measure(cannon, plan, {
            warmupSeconds,
            seconds,
            serverPid: (who === "pregon" ? ours : better)!.pid,
            postgresPid: bench.postgresPid(),
          });
          if (result.bodiesUsed > available) {
            failures.push(`${who} ${path}: the codes ran out (some were checked twice)`);
          }
          if (who === "pregon") codes.consume(result.bodiesUsed, path);
          else theirs = theirs.slice(result.bodiesUsed);
          fastest[who] = Math.max(fastest[who], result.requestsPerSecond);
          const key = `${path}/${who}`;
          runs.set(key, [...(runs.get(key) ?? []), result]);
          const unexpected = Object.entries(result.statuses).filter(
            ([status, count]) => status !== expected[who][path] && count > 0,
          );
          if (unexpected.length || result.errors || result.timeouts) {
            failures.push(
              `${who} ${path} code: answers ${JSON.stringify(result.statuses)}, ${result.errors} errors (expected ${expected[who][path]})`,
            );
          }
        }
      }
    }
    failures.push(...(await codes.check()));
  } finally {
    cannon.stop();
    await Promise.all(children.map((child) => child.stop()));
    await rm(dir, { recursive: true, force: true });
    await sql.end();
    await pipeline.purge();
    await pipeline.stop();
  }

  const figures = {} as BetterAuthFigures;
  const rows: string[] = [];
  for (const path of paths) {
    figures[path] = {
      pregon: summary(runs.get(`${path}/pregon`) ?? []),
      betterAuth: summary(runs.get(`${path}/betterAuth`) ?? []),
    };
    const { pregon, betterAuth } = figures[path];
    for (const who of servers) {
      const s = figures[path][who];
      rows.push(
        `| ${who === "pregon" ? `${path} code` : ""} | ${who === "pregon" ? "Pregón `POST /v1/otp/verify`" : "Better Auth `POST /api/auth/sign-in/email-otp`"} | ${num(s.rps)} (${s.each.map((r) => num(r)).join(", ")}) | ${ms(s.p50)} | ${ms(s.p99)} | ${num(s.cpuMsPerRequest, 2)} ms | ${who === "pregon" ? ratio(pregon.rps / betterAuth.rps) : ""} | ${who === "pregon" ? ratio(betterAuth.cpuMsPerRequest / pregon.cpuMsPerRequest) : ""} |`,
      );
    }
  }
  const markdown = `autocannon, ${connections} connections (as in section 1), ${rounds} round(s) of ${seconds} s per server and path after a ${warmupSeconds} s warm-up, the two servers alternating (ABBA); medians, each round's req/s in brackets. Both servers run in production mode (\`NODE_ENV=production\`), each in its own process, on the same Postgres 17.

| path | server | req/s | p50 | p99 | CPU per request (server + Postgres) | req/s Pregón ÷ Better Auth | CPU Better Auth ÷ Pregón |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

- **Better Auth** 1.7 (\`better-auth\`, pinned in the root devDependencies, used by \`bench/\` only) with its \`emailOTP\` plugin, on \`pg\`'s Pool (10 connections, as Pregón's pool) to a database of its own on the same Postgres server, created by its own migration API (\`getMigrations\`). Served by Hono on \`@hono/node-server\`, as Better Auth documents it and as Pregón serves. Its codes are stored hashed (\`storeOTP: "hashed"\`, not its default, clear text: Pregón keeps only an HMAC); its rate limiter is off (on in production by default, it allows 3 checks a minute from one address, and the benchmark is one address); telemetry off.
- Its codes are real: verified users created in bulk, then a sign-in code sent to each through its API (\`auth.api.sendVerificationOTP\`), the send callback keeping the code. Each request checks a different pending code: right, it signs the user in (the code consumed, a session row written, a signed cookie set); wrong, the code is consumed and written back with one more attempt, and the answer is 400 \`INVALID_OTP\`.
- **Pregón**: the REST route of section 1, a full-scope key; right, the code is verified and the \`otp.verified\` fact written and published; wrong, the attempt and the destination's failure are counted and the \`otp.failed\` fact written and published; 200 either way.
- CPU per request: the server process and every Postgres process, from /proc, over the measured run, as in section 1.`;
  return {
    title: "6. OTP verify against Better Auth",
    markdown,
    failures,
    figures: { betterAuth: figures },
  };
}
