// The benchmark harness itself works: `npm run bench` in its quick mode (a few requests per section,
// a 3 s load, one small fault), with the profiler on, writes a report with every section, every
// comparison and the targets table, all with numbers. The full run (`npm run bench`, minutes) is
// not part of `npm test`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "pregon-bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run bench (quick mode)", () => {
  it("writes every section and comparison with numbers, and the quick load and fault runs lose nothing", () => {
    const out = join(dir, "benchmarks.md");
    const result = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts"], {
      encoding: "utf8",
      timeout: 170_000,
      env: {
        ...process.env,
        BENCH_QUICK: "1",
        BENCH_PROFILE: "1",
        BENCH_OUT: out,
        LOG_LEVEL: "SILENT",
        POWERTOOLS_METRICS_DISABLED: "true",
      },
    });
    // 1: a check did not hold (a latency-bound one can, on a loaded CI machine); the report says which.
    expect([0, 1], result.stderr).toContain(result.status);
    // Spaces collapsed: inside the repo the report's tables are aligned by the formatter.
    const report = readFileSync(out, "utf8").replace(/ +/g, " ");
    expect(report).toContain("**Quick mode");
    expect(report).toMatch(/\| machine \| .+, \d+ cores, [\d.]+ GiB memory/);
    expect(report).toMatch(/\| Node \| v\d+\.\d+\.\d+ \|/);
    expect(report).not.toContain("The section failed");
    for (const heading of [
      "## Against the targets",
      "## 1. API: REST, tRPC and a bare baseline, in both modes",
      "### Where the time goes",
      "## 2. Bulk",
      "## 3. Cold start",
      "## 4. Load",
      "## 5. Faults",
      "## 6. OTP verify against Better Auth",
      "## 7. Email sender against a bare SES loop",
    ]) {
      expect(report).toContain(heading);
    }
    // Every row of the targets table was measured in this run, none left "not run".
    const targets = report.slice(report.indexOf("## Against the targets"), report.indexOf("## 1."));
    expect(targets.match(/^\| .+ \| (yes|\*\*no\*\*) \|$/gm)?.length).toBe(9);
    expect(targets).not.toContain("not run");
    // Each target not met is followed by what stands in the way.
    const unmet = targets.match(/^\| .+ \| \*\*no\*\* \|$/gm)?.length ?? 0;
    expect(targets.match(/^- .+: .+/gm)?.length ?? 0).toBe(unmet);
    expect(targets).toMatch(/npm start: [\d.]+× \(REST [\d,]+, tRPC [\d,]+, bare handler [\d,]+/);
    // Each endpoint through REST, tRPC and the baseline, in both modes, with numbers.
    for (const endpoint of [
      "`GET /v1/me`",
      "`POST /v1/emails` (1 recipient)",
      "`POST /v1/otp/verify`",
    ]) {
      for (const mode of ["npm start", "production"]) {
        expect(report).toContain(`| ${endpoint} | ${mode} | REST | `);
      }
    }
    expect(report).toMatch(
      /\| \| \| tRPC \| [\d,]+ \([\d,]+\) \| [\d.,]+ ms \| [\d.,]+ ms \| [\d.,]+ ms \| 0 \| [\d.]+× \|/,
    );
    expect(report).toMatch(/\| \| \| baseline \| [\d,]+ \([\d,]+\) \|/);
    // The profile names functions with their self time, per path and mode.
    expect(report).toContain("#### Server under `npm start`'s settings");
    expect(report).toContain("#### Server under production's settings");
    expect(report).toMatch(/\| 1\. \| `[^`]+`.* \| [\d,]+ µs \| \d+% \|/);
    // Better Auth beside Pregón, right and wrong code.
    expect(report).toMatch(
      /\| right code \| Pregón `POST \/v1\/otp\/verify` \| [\d,]+ .*\| [\d.]+× \|/,
    );
    expect(report).toMatch(
      /\| wrong code \| Pregón `POST \/v1\/otp\/verify` \| [\d,]+ .*\| [\d.]+× \|/,
    );
    expect(report).toMatch(/\| \| Better Auth `POST \/api\/auth\/sign-in\/email-otp` \| [\d,]+ /);
    // The sender beside the bare loop.
    expect(report).toMatch(/\| email sender, pacing off .* \| [\d,]+ \([\d,]+\) \|/);
    expect(report).toMatch(/\| sender ÷ bare loop \| [\d.]+× \|/);
    expect(report).toMatch(/\| \*\*median\*\* \| \*\*[\d.]+ s\*\* \|/);
    // The API's first use loads our modules its import leaves out: the SNS publisher, the S3
    // store, the template engine.
    const later =
      /\| `http\.ts` \| [\d,]+ \(\+ [\d,]+\) \| [\d,]+ \| [\d.,]+ ms \|.* \| ((?:`[\w-]+`, )*`[\w-]+`): [\d.,]+ ms \|/.exec(
        report,
      )?.[1];
    expect(later?.split(", ").sort()).toEqual(["`engine`", "`publisher-sns`", "`templates-s3`"]);
    expect(report).toMatch(
      /\| all \| [\d,]+ \| [\d,]+ \| 0 \| 0 \| 0 \| [\d.,]+ ms \| [\d.,]+ ms \|/,
    );
    // Nothing lost, under load and through the crashing sender.
    expect(report.match(/lost[^|]*\| \*\*(\d+)\*\*/g)?.length).toBe(2);
    expect(report).not.toMatch(/lost[^|]*\| \*\*[1-9]/);
    expect(report).toContain("### A sender that crashes on every 7th message");
  }, 180_000);
});
