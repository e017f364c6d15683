// One autocannon measurement, in its own process so the load generator does not share the event
// loop of the server it measures (bench/api.ts spawns it). A warm-up run, discarded, then the
// measured run; prints the result as one JSON line.
//
//   node --import tsx bench/cannon.ts '<CannonPlan as JSON>'
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

export interface CannonPlan {
  url: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  /** The same body for every request… */
  body?: string;
  /** …or one per request, from a file of JSON lines (used in order; wraps around when used up). */
  bodiesFile?: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

export interface CannonResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Bodies taken from `bodiesFile` (warm-up included). */
  bodiesUsed: number;
  /** Answers per status code. */
  statuses: Record<string, number>;
}

async function run(plan: CannonPlan): Promise<CannonResult> {
  const bodies = plan.bodiesFile ? readFileSync(plan.bodiesFile, "utf8").trim().split("\n") : [];
  let used = 0;
  const options = (duration: number): autocannon.Options => ({
    url: plan.url,
    method: plan.method,
    headers: plan.headers,
    connections: plan.connections,
    duration,
    ...(plan.body !== undefined && { body: plan.body }),
    // A top-level setupRequest cannot set the body (autocannon 9 sends it empty); a request's can.
    ...(bodies.length > 0 && {
      requests: [
        {
          setupRequest: (request: autocannon.Request) => ({
            ...request,
            body: bodies[used++ % bodies.length],
          }),
        },
      ],
    }),
  });
  if (plan.warmupSeconds > 0) await autocannon(options(plan.warmupSeconds));
  const result = await autocannon(options(plan.seconds));
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    bodiesUsed: used,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [
        status,
        count ?? 0,
      ]),
    ),
  };
}

if (process.argv[2]) {
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(process.argv[2]) as CannonPlan))}\n`);
}
