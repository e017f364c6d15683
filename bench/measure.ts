// One measured run against a server child: a warm-up (discarded), then the run, with the CPU the
// server and Postgres spent in it and its time window (to cut a CPU profile to); and the medians
// of several such runs.
import type { Cannon, CannonPlan, CannonResult } from "./cannon";
import { cpuMs, postgresCpuMs } from "./child";
import { monotonicMicros } from "./profile";
import { median } from "./stats";

export interface Run extends CannonResult {
  /** (server + Postgres CPU ms) ÷ requests, over the measured run. */
  cpuMsPerRequest: number;
  /** The measured run, µs on the monotonic clock. */
  window: [number, number];
  /** Bodies used by the warm-up and the run together. */
  bodiesUsed: number;
}

export async function measure(
  cannon: Cannon,
  plan: Omit<CannonPlan, "seconds">,
  options: { warmupSeconds: number; seconds: number; serverPid: number; postgresPid: number },
): Promise<Run> {
  let used = 0;
  if (options.warmupSeconds > 0) {
    const warmup = await cannon.run({ ...plan, seconds: options.warmupSeconds });
    used = warmup.bodiesUsed;
  }
  const cpu = () => cpuMs(options.serverPid) + postgresCpuMs(options.postgresPid);
  const cpuBefore = cpu();
  const from = monotonicMicros();
  const result = await cannon.run({
    ...plan,
    bodiesFrom: (plan.bodiesFrom ?? 0) + used,
    seconds: options.seconds,
  });
  const to = monotonicMicros();
  return {
    ...result,
    cpuMsPerRequest: (cpu() - cpuBefore) / Math.max(1, result.requests),
    window: [from, to],
    bodiesUsed: used + result.bodiesUsed,
  };
}

/** Medians of a target's runs, and what a report needs besides. */
export interface Summary {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  /** Each run's req/s, in order. */
  each: number[];
  /** Non-2xx answers, errors and timeouts over every run. */
  failed: number;
  statuses: string;
}

export function summary(runs: Run[]): Summary {
  return {
    rps: median(runs.map((r) => r.requestsPerSecond)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
    each: runs.map((r) => r.requestsPerSecond),
    failed: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    statuses: runs.map((r) => JSON.stringify(r.statuses)).join(" "),
  };
}
