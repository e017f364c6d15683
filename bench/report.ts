// docs/benchmarks.md: the command, the machine, the date, then each section's tables and notes.
import type { BenchConfig, Figures, Section } from "./config";
import { type Machine, num, seconds } from "./stats";
import { targets } from "./targets";

export function report(input: {
  command: string;
  config: BenchConfig;
  machine: Machine;
  date: Date;
  totalMs: number;
  sections: Section[];
  figures: Figures;
}): string {
  const { machine, config } = input;
  const failures = input.sections.flatMap((section) => section.failures);
  const against = targets(input.figures);
  return `# Benchmarks

Written by \`${input.command}\` (\`bench/run.ts\`); run it again to replace these numbers.
\`BENCH_LOAD_SECONDS=N\` shortens the load section, \`BENCH_QUICK=1\` runs every section in a few
seconds (what \`test/bench.test.ts\` checks), \`BENCH_OUT=file\` writes the report elsewhere,
\`BENCH_SECTIONS=1,6\` runs only those sections, \`BENCH_ENDPOINTS=verify,me\` only those endpoints
of section 1, \`BENCH_PROFILE=1\` adds where the API server's CPU goes, path by path (section 1).
${config.quick ? "\n**Quick mode: a few requests per section, for checking the harness; the numbers mean little.**\n" : ""}
| | |
| --- | --- |
| date | ${input.date.toISOString().replace(/\.\d+Z$/, "Z")} |
| machine | ${machine.cpu}, ${machine.cores} cores, ${num(machine.memoryGiB, 1)} GiB memory, ${machine.os} |
| Node | ${machine.node} |
| code | commit \`${machine.commit}\`${machine.dirty ? " plus uncommitted changes in the working tree" : ""} |
| whole run | ${seconds(input.totalMs)} |
| outcome | ${failures.length ? `**${failures.length} check(s) did not hold**: ${failures.join("; ")}` : "every check held"} |
| targets | ${against.met} of ${against.measured} met${against.measured < against.total ? " (the sections that ran)" : ""} |

The machine is a ${machine.cores}-core VM shared with other work (another engineer's test runs
among it), so single numbers move by tens of percent from run to run. Read the ratios: each
baseline runs beside what it is compared with, in the same run, alternating where it can; and
the medians, not the single rounds.

## Against the targets

What users compare, each figure measured in this run beside its baseline; the sections below say
how.

${against.markdown}

Everything runs in one process on the local stack (\`startStack\` from
\`packages/local/src/stack.ts\`, the same parts \`npm start\` runs, on a temp data dir
and free ports): embedded Postgres 17 (durable: fsync on, as \`npm start\`), fauxqs for SNS/SQS,
aws-ses-v2-local as SES, the Hono app on \`@hono/node-server\`, and the real Lambda handlers
(email, SMS and push senders, audit, feedback) driven by \`startPoller\` as \`main.ts\` drives
them. Traffic goes to loopback only. The API and the consumers share the 2 cores, as they do under
\`npm start\`; on AWS they are separate Lambdas. Sections 1 and 6 run the servers they compare in
processes of their own (\`bench/server.ts\`, \`bench/betterauth-server.ts\`) on the same stack, and
every autocannon run comes from a process of its own too.

${input.sections.map((section) => `## ${section.title}\n\n${section.markdown}\n`).join("\n")}`;
}
