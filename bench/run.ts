// `npm run bench`: every section in order on one local stack, then docs/benchmarks.md.
//
//   npm run bench                        the full run (about 15 minutes on 2 cores)
//   BENCH_QUICK=1 npm run bench          a few seconds per section (test/bench.test.ts)
//   BENCH_LOAD_SECONDS=30 npm run bench  a shorter load section
//   BENCH_OUT=/tmp/b.md npm run bench    write the report elsewhere
//   BENCH_SECTIONS=1,2 npm run bench     only those sections (with BENCH_OUT: a partial report)
//   BENCH_ENDPOINTS=verify,me npm run bench  only those endpoints in the API section
//   BENCH_PROFILE=1 npm run bench        also profile the API's server, path by path (--cpu-prof)
//
// Traffic goes to loopback only; every run is bounded in requests and time and stops by itself.
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { apiOverhead } from "./api";
import { betterAuthVerify } from "./betterauth";
import { bulk } from "./bulk";
import { coldStart } from "./coldstart";
import { benchConfig, endpoints, type Figures, type Section } from "./config";
import { faults } from "./faults";
import { load } from "./load";
import { report } from "./report";
import { sender } from "./sender";
import { startBenchStack } from "./stack";
import { machine } from "./stats";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * postgres.js (3.4.9) can throw from a write it had queued for a connection that Postgres closed
 * meanwhile (the fault runs restart Postgres under load): uncaught, it ends the process, as it
 * would end `npm start`. The bench notes it as a check of the running section that did not hold,
 * and goes on; anything else uncaught still ends the run.
 */
const crashes: string[] = [];
process.on("uncaughtException", (error) => {
  const stack = error.stack ?? "";
  if (
    error instanceof TypeError &&
    stack.includes("nextWrite") &&
    stack.includes("postgres/src/connection.js")
  ) {
    crashes.push(
      `postgres.js threw "${error.message}" from a write queued for a connection Postgres had closed: a process without the bench's handler would have exited`,
    );
    return;
  }
  process.stderr.write(`bench: ${stack || String(error)}\n`);
  process.exit(1);
});

async function main() {
  const started = performance.now();
  const config = benchConfig();
  const out = config.out ?? join(root, "docs", "benchmarks.md");
  const bench = await startBenchStack();
  const sections: Section[] = [];
  const steps: Array<[string, () => Promise<Section>]> = (
    [
      ["1. API overhead", () => apiOverhead(bench, config)],
      ["2. Bulk", () => bulk(bench, config)],
      ["3. Cold start", () => coldStart(config)],
      ["4. Load", () => load(bench, config)],
      ["5. Faults", () => faults(bench, config)],
      ["6. OTP verify against Better Auth", () => betterAuthVerify(bench, config)],
      ["7. Email sender against a bare SES loop", () => sender(bench, config)],
    ] satisfies Array<[string, () => Promise<Section>]>
  ).filter((_, i) => !config.sections || config.sections.includes(i + 1));
  try {
    for (const [title, run] of steps) {
      const t = performance.now();
      process.stderr.write(`bench: ${title}…\n`);
      await bench.settle();
      const section = await run().catch(
        (error): Section => ({
          title,
          markdown: `The section failed: \`${error instanceof Error ? error.message : String(error)}\``,
          failures: [`${title} failed: ${error instanceof Error ? error.message : String(error)}`],
        }),
      );
      for (const crash of crashes.splice(0)) section.failures.push(`${title}: ${crash}`);
      sections.push(section);
      process.stderr.write(
        `bench: ${title} done in ${((performance.now() - t) / 1000).toFixed(0)} s\n`,
      );
    }
  } finally {
    await bench.stop();
  }
  const figures: Figures = Object.assign({}, ...sections.map((section) => section.figures));
  const markdown = report({
    command: `${config.quick ? "BENCH_QUICK=1 " : ""}${config.profile ? "BENCH_PROFILE=1 " : ""}${config.sections ? `BENCH_SECTIONS=${config.sections.join(",")} ` : ""}${config.api.endpoints.length < endpoints.length ? `BENCH_ENDPOINTS=${config.api.endpoints.join(",")} ` : ""}npm run bench`,
    figures,
    config,
    machine: machine(),
    date: new Date(),
    totalMs: performance.now() - started,
    sections,
  });
  await writeFile(out, markdown);
  // The repo's formatter aligns the tables (`biome check` in `npm test` expects it).
  spawnSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", out], { cwd: root });
  const failures = sections.flatMap((section) => section.failures);
  process.stderr.write(
    `bench: wrote ${out} in ${((performance.now() - started) / 1000).toFixed(0)} s${failures.length ? `; ${failures.length} failure(s):\n  ${failures.join("\n  ")}` : ""}\n`,
  );
  return failures.length ? 1 : 0;
}

// Open handles (SDK sockets, timers of the emulators) must not keep a finished run alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
