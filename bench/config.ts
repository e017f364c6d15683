// How long and how hard each section runs. BENCH_QUICK=1: a few seconds each (the smoke test);
// BENCH_LOAD_SECONDS: the load section's duration (default 120); BENCH_SECTIONS: which sections run
// (their numbers, say `1,2`; all when unset); BENCH_ENDPOINTS: which of the API section's endpoints
// run (say `verify,me`; all when unset); BENCH_PROFILE=1: profile the API's server too.
import type { ApiFigures } from "./api";
import type { BetterAuthFigures } from "./betterauth";
import type { BulkFigures } from "./bulk";
import type { ColdStartFigures } from "./coldstart";
import type { SenderFigures } from "./sender";

/** The API section's endpoints (bench/api.ts), in the order it runs them. */
export const endpoints = ["me", "emails", "verify"] as const;
export type Endpoint = (typeof endpoints)[number];

export type Fault = "postgres" | "fauxqs" | "crash" | "kill";

export interface BenchConfig {
  quick: boolean;
  /** Where the report goes (BENCH_OUT); docs/benchmarks.md when unset. */
  out: string | undefined;
  /** The numbers of the sections to run (BENCH_SECTIONS); every section when unset. */
  sections: number[] | undefined;
  api: Timing & { rounds: number; connections: number; endpoints: readonly Endpoint[] };
  /** BENCH_PROFILE=1: the API section's servers run under --cpu-prof. */
  profile: boolean;
  betterAuth: Timing & { rounds: number; connections: number };
  sender: { rounds: number; emails: number };
  bulk: { rounds: number; recipients: number; sendRate: number };
  coldStart: { runs: number; entries?: string[] };
  load: { seconds: number; rate: number };
  faults: {
    runs: Fault[];
    seconds: number;
    rate: number;
    faultAtSeconds: number;
    downMs: number;
    /** Visibility timeout of the fault runs' queues: a failed batch comes back within the run. */
    visibilitySeconds: number;
  };
  /** Drains wait at most this long for every delivery to settle. */
  drainSeconds: number;
}

export interface Timing {
  warmupSeconds: number;
  seconds: number;
}

/** The numbers the comparison with the targets reads (bench/targets.ts), by the section that measured them. */
export interface Figures {
  api?: ApiFigures;
  betterAuth?: BetterAuthFigures;
  bulk?: BulkFigures;
  coldStart?: ColdStartFigures;
  sender?: SenderFigures;
}

export interface Section {
  title: string;
  markdown: string;
  /** What did not hold (5xx under load, a lost recipient…); empty when everything did. */
  failures: string[];
  figures?: Figures;
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === "1" || env.BENCH_QUICK === "true";
  const loadSeconds = Number(env.BENCH_LOAD_SECONDS ?? (quick ? 3 : 120));
  if (!Number.isFinite(loadSeconds) || loadSeconds <= 0) {
    throw new Error("BENCH_LOAD_SECONDS must be a positive number of seconds");
  }
  const out = env.BENCH_OUT || undefined;
  const sections = env.BENCH_SECTIONS ? env.BENCH_SECTIONS.split(",").map(Number) : undefined;
  if (sections?.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error("BENCH_SECTIONS must list section numbers, such as 1,2");
  }
  const chosen = env.BENCH_ENDPOINTS?.split(",");
  const unknown = chosen?.filter((name) => !(endpoints as readonly string[]).includes(name));
  if (unknown?.length) {
    throw new Error(`BENCH_ENDPOINTS must list some of ${endpoints.join(", ")}, not ${unknown}`);
  }
  const apiEndpoints = endpoints.filter((name) => !chosen || chosen.includes(name));
  const profile = env.BENCH_PROFILE === "1" || env.BENCH_PROFILE === "true";
  if (quick) {
    return {
      quick,
      out,
      sections,
      api: { rounds: 1, warmupSeconds: 0, seconds: 1, connections: 4, endpoints: apiEndpoints },
      profile,
      betterAuth: { rounds: 1, warmupSeconds: 0, seconds: 1, connections: 4 },
      sender: { rounds: 1, emails: 50 },
      bulk: { rounds: 1, recipients: 200, sendRate: 2_000 },
      coldStart: {
        runs: 2,
        entries: ["packages/functions/src/http.ts", "packages/functions/src/audit.ts"],
      },
      load: { seconds: loadSeconds, rate: 10 },
      faults: {
        runs: ["crash"],
        seconds: 3,
        rate: 10,
        faultAtSeconds: 1,
        downMs: 500,
        visibilitySeconds: 2,
      },
      drainSeconds: 30,
    };
  }
  return {
    quick,
    out,
    sections,
    api: { rounds: 3, warmupSeconds: 1, seconds: 4, connections: 10, endpoints: apiEndpoints },
    profile,
    betterAuth: { rounds: 3, warmupSeconds: 1, seconds: 4, connections: 10 },
    sender: { rounds: 3, emails: 2_000 },
    bulk: { rounds: 3, recipients: 10_000, sendRate: 2_000 },
    coldStart: { runs: 5 },
    load: { seconds: loadSeconds, rate: 20 },
    faults: {
      runs: ["postgres", "fauxqs", "crash", "kill"],
      seconds: 30,
      rate: 20,
      faultAtSeconds: 10,
      downMs: 3_000,
      visibilitySeconds: 10,
    },
    drainSeconds: 90,
  };
}
