// autocannon in a process of its own, so the load generator does not share the event loop of the
// server it measures. One worker serves a whole section: the bench sends it plans over IPC and
// gets one result per plan, without paying a process start per run.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

export interface CannonPlan {
  url: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  /** The same body for every request… */
  body?: string;
  /** …or one per request, from a file of JSON lines, used in order from `bodiesFrom`. */
  bodiesFile?: string;
  bodiesFrom?: number;
  connections: number;
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
  /** Bodies taken from `bodiesFile`. */
  bodiesUsed: number;
  /** Answers per status code. */
  statuses: Record<string, number>;
}

/** The last bodies file read: a warm-up and its measured run share one. */
let cached = { file: "", bodies: [] as string[] };

async function run(plan: CannonPlan): Promise<CannonResult> {
  if (plan.bodiesFile && plan.bodiesFile !== cached.file) {
    cached = {
      file: plan.bodiesFile,
      bodies: readFileSync(plan.bodiesFile, "utf8").trim().split("\n"),
    };
  }
  const bodies = plan.bodiesFile ? cached.bodies : [];
  const from = plan.bodiesFrom ?? 0;
  let used = 0;
  const result = await autocannon({
    url: plan.url,
    method: plan.method,
    headers: plan.headers,
    connections: plan.connections,
    duration: plan.seconds,
    ...(plan.body !== undefined && { body: plan.body }),
    // A top-level setupRequest cannot set the body (autocannon 9 sends it empty); a request's can.
    ...(bodies.length > 0 && {
      requests: [
        {
          setupRequest: (request: autocannon.Request) => ({
            ...request,
            body: bodies[(from + used++) % bodies.length],
          }),
        },
      ],
    }),
  });
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

export interface Cannon {
  run(plan: CannonPlan): Promise<CannonResult>;
  stop(): void;
}

/** Starts the worker; its runs are served one at a time, in order. */
export function startCannon(): Cannon {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "worker"],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  let queue: Promise<unknown> = Promise.resolve();
  const exited = new Promise<never>((_, fail) =>
    child.once("exit", (code) => fail(new Error(`the autocannon worker exited with ${code}`))),
  );
  exited.catch(() => {});
  return {
    run(plan) {
      const next = queue.then(() =>
        Promise.race([
          exited,
          new Promise<CannonResult>((done) => {
            child.once("message", (message) => done(message as CannonResult));
            child.send(plan);
          }),
        ]),
      );
      queue = next.catch(() => {});
      return next;
    },
    stop() {
      child.removeAllListeners("exit");
      child.kill();
    },
  };
}

if (process.argv[2] === "worker" && process.send) {
  process.on("message", (plan: CannonPlan) => {
    void run(plan).then(
      (result) => process.send!(result),
      (error) => {
        process.stderr.write(`autocannon: ${error instanceof Error ? error.stack : error}\n`);
        process.exit(1);
      },
    );
  });
  // The bench going away takes the worker with it.
  process.on("disconnect", () => process.exit(0));
}
