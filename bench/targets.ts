// The figures users compare, each beside its target: one row per target, read from what the
// sections measured in this run (medians, and ratios against baselines measured beside them).
import { modes } from "./child";
import type { Figures } from "./config";
import { ms, num, ratio } from "./stats";

interface Row {
  what: string;
  target: string;
  /** The measured figures and whether they meet the target; undefined: the section did not run. */
  measure: (figures: Figures) => { now: string; met: boolean } | undefined;
}

const hot = ["packages/functions/src/http.ts", "packages/functions/src/otp.ts"];
const short = (entry: string) => entry.replace("packages/functions/src/", "");

const rows: Row[] = [
  {
    what: "`GET /v1/me`, REST ÷ tRPC (req/s)",
    target: "≥ 0.9× (REST within 10% of tRPC), every mode",
    measure: ({ api }) => {
      if (!api?.[modes[0]].me) return undefined;
      const of = modes.map((mode) => {
        const { rest, trpc, baseline } = api[mode].me!;
        return {
          ratio: rest.rps / trpc.rps,
          text: `${mode}: ${ratio(rest.rps / trpc.rps)} (REST ${num(rest.rps)}, tRPC ${num(trpc.rps)}, bare handler ${num(baseline.rps)} req/s)`,
        };
      });
      return { now: of.map((m) => m.text).join("; "), met: of.every((m) => m.ratio >= 0.9) };
    },
  },
  {
    what: "`POST /v1/emails`, API ÷ bare node:http baseline doing the same writes (req/s)",
    target: "≥ 0.8×, every mode",
    measure: ({ api }) => {
      if (!api?.[modes[0]].emails) return undefined;
      const of = modes.map((mode) => {
        const { rest, baseline } = api[mode].emails!;
        return {
          ratio: rest.rps / baseline.rps,
          text: `${mode}: ${ratio(rest.rps / baseline.rps)} (${num(rest.rps)} vs ${num(baseline.rps)} req/s)`,
        };
      });
      return { now: of.map((m) => m.text).join("; "), met: of.every((m) => m.ratio >= 0.8) };
    },
  },
  {
    what: "`POST /v1/otp/verify`, API ÷ baseline; and on its own",
    target: "≥ 0.9×; ≥ 500 req/s (aiming at 1,000), p99 ≤ 20 ms; every mode",
    measure: ({ api }) => {
      if (!api?.[modes[0]].verify) return undefined;
      const of = modes.map((mode) => {
        const { rest, baseline } = api[mode].verify!;
        return {
          met: rest.rps / baseline.rps >= 0.9 && rest.rps >= 500 && rest.p99 <= 20,
          text: `${mode}: ${ratio(rest.rps / baseline.rps)} (${num(rest.rps)} vs ${num(baseline.rps)} req/s), p99 ${ms(rest.p99)}`,
        };
      });
      return { now: of.map((m) => m.text).join("; "), met: of.every((m) => m.met) };
    },
  },
  {
    what: "OTP verify ÷ Better Auth 1.7 email-OTP, same Postgres, each request a different pending code (req/s)",
    target: "≥ 1× (aiming at 2×), right and wrong code",
    measure: ({ betterAuth }) => {
      if (!betterAuth) return undefined;
      const of = (["right", "wrong"] as const).map((path) => {
        const { pregon, betterAuth: theirs } = betterAuth[path];
        return {
          ratio: pregon.rps / theirs.rps,
          text: `${path} code ${ratio(pregon.rps / theirs.rps)} (${num(pregon.rps)} vs ${num(theirs.rps)} req/s; CPU per verify, server + Postgres, ${num(pregon.cpuMsPerRequest, 2)} vs ${num(theirs.cpuMsPerRequest, 2)} ms)`,
        };
      });
      return { now: of.map((m) => m.text).join("; "), met: of.every((m) => m.ratio >= 1) };
    },
  },
  {
    what: "cold import: http and otp bundles",
    target: "≤ 80 ms",
    measure: ({ coldStart }) => {
      const bundles = coldStart?.bundles.filter((b) => hot.includes(b.entry));
      if (!bundles?.length) return undefined;
      return {
        now: bundles.map((b) => `${short(b.entry)} ${ms(b.importMs)}`).join(", "),
        met: bundles.every((b) => b.importMs <= 80),
      };
    },
  },
  {
    what: "cold import: every other bundle",
    target: "≤ 60 ms",
    measure: ({ coldStart }) => {
      const bundles = coldStart?.bundles.filter((b) => !hot.includes(b.entry));
      if (!bundles?.length) return undefined;
      const times = bundles.map((b) => b.importMs);
      return {
        now: `${ms(Math.min(...times))}–${ms(Math.max(...times))} (${bundles.length} bundles)`,
        met: times.every((t) => t <= 60),
      };
    },
  },
  {
    what: "zip per function, no source map inside",
    target: "≤ 512 KiB",
    measure: ({ coldStart }) => {
      if (!coldStart?.bundles.length) return undefined;
      const largest = coldStart.bundles.reduce((a, b) => (b.zipKiB > a.zipKiB ? b : a));
      return {
        now: `largest ${num(largest.zipKiB)} KiB (${short(largest.entry)})`,
        met: coldStart.bundles.every((b) => b.zipKiB <= 512),
      };
    },
  },
  {
    what: "10,000 recipients accepted, API ÷ raw `unnest` INSERT (rows/s)",
    target: "≥ 0.5×",
    measure: ({ bulk }) =>
      bulk && {
        now: `${ratio(bulk.api / bulk.raw)} (${num(bulk.api)} vs ${num(bulk.raw)} rows/s${bulk.recipients === 10_000 ? "" : `; ${num(bulk.recipients)} recipients in this run`})`,
        met: bulk.api / bulk.raw >= 0.5,
      },
  },
  {
    what: "email sender into the local mailbox, pacing off, ÷ a bare SES-client loop at the same concurrency (emails/s)",
    target: "≥ 0.7×",
    measure: ({ sender }) =>
      sender && {
        now: `${ratio(sender.sender / sender.bare)} (${num(sender.sender)} vs ${num(sender.bare)} emails/s; CPU per email, bench process + Postgres, ${num(sender.senderCpuMs, 2)} vs ${num(sender.bareCpuMs, 2)} ms)`,
        met: sender.sender / sender.bare >= 0.7,
      },
  },
];

/** The table, and how many targets this run met. */
export function targets(figures: Figures): {
  markdown: string;
  met: number;
  measured: number;
  total: number;
} {
  let met = 0;
  let measured = 0;
  const lines = rows.map((row) => {
    const result = row.measure(figures);
    if (result) {
      measured++;
      if (result.met) met++;
    }
    return `| ${row.what} | ${result?.now ?? "not run"} | ${row.target} | ${result ? (result.met ? "yes" : "**no**") : ""} |`;
  });
  return {
    met,
    measured,
    total: rows.length,
    markdown: `| what | measured in this run (medians; ratios against baselines measured beside them) | target | met |
| --- | --- | --- | --- |
${lines.join("\n")}`,
  };
}
