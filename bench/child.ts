// Servers the bench measures, each in a process of its own (bench/server.ts: Pregón's API and the
// bare baseline; bench/betterauth.ts: Better Auth), so each runs with its own environment from its
// first import; and what they and Postgres spend in CPU, read from /proc.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The settings the API runs under. `npm start`: what packages/local/src/defaults.ts sets
 * (pretty-printed logs, no metric lines), NODE_ENV unset, logs at INFO. `production`: what
 * infra/functions.ts gives the functions on AWS: NODE_ENV=production, logs at INFO as JSON lines,
 * metrics as EMF lines. Either way the log output goes to /dev/null.
 */
export const modes = ["npm start", "production"] as const;
export type Mode = (typeof modes)[number];

/** The bench's own environment less what `npm run bench` sets for its process. */
function baseEnv(): NodeJS.ProcessEnv {
  const {
    LOG_LEVEL: _level,
    POWERTOOLS_METRICS_DISABLED: _metrics,
    POWERTOOLS_DEV: _dev,
    NODE_ENV: _env,
    ...rest
  } = process.env;
  return rest;
}

export interface ServerChild {
  pid: number;
  /** What the child said it serves, by name. */
  urls: Record<string, string>;
  /** Stops it (SIGTERM; the child exits by itself) and resolves with its CPU profile, if any. */
  stop(): Promise<string | undefined>;
}

/**
 * Spawns `file` (a bench/*.ts server entry) with `config` as its argument, in `mode`, and waits for
 * its `{ urls }` message. `profile`: a folder for V8 CPU profiles of the child, one per thread
 * (tsx's module hooks run on a thread of their own); `stop` resolves with the main thread's.
 */
export async function spawnServer(
  file: string,
  config: unknown,
  options: { mode: Mode; profile?: string },
): Promise<ServerChild> {
  const flags = ["--import", "tsx"];
  if (options.mode === "npm start") {
    flags.push("--import", join(root, "packages/local/src/defaults.ts"));
  }
  if (options.profile) flags.push("--cpu-prof", `--cpu-prof-dir=${options.profile}`);
  const child: ChildProcess = spawn(
    process.execPath,
    [...flags, fileURLToPath(new URL(file, import.meta.url)), JSON.stringify(config)],
    {
      cwd: root,
      env: { ...baseEnv(), ...(options.mode === "production" && { NODE_ENV: "production" }) },
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  const urls = await Promise.race([
    new Promise<Record<string, string>>((done) =>
      child.once("message", (message) => done((message as { urls: Record<string, string> }).urls)),
    ),
    exited.then((code) => {
      throw new Error(`${file} exited with ${code} before it was ready`);
    }),
  ]);
  return {
    pid: child.pid!,
    urls,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      if (!options.profile) return undefined;
      // CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile; the main thread is 0.
      const main = readdirSync(options.profile).find((name) => name.includes(`.${child.pid}.0.`));
      return main && join(options.profile, main);
    },
  };
}

/** A server's side of the handshake: tells the bench what it serves, exits on SIGTERM. */
export function serving(urls: Record<string, string>, close: () => Promise<void>) {
  process.once("SIGTERM", () => {
    // process.exit, not a return from main: --cpu-prof writes its profile at exit.
    void close().finally(() => process.exit(0));
  });
  // The bench gone (killed, say), the server goes too.
  process.once("disconnect", () => process.exit(0));
  process.send?.({ urls });
}

/** [utime + stime, and the same of its children that have exited] of a process, in ms. */
function procCpuMs(pid: number): { own: number; reaped: number; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name, which may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Linux reports these in clock ticks of 1/100 s.
  const tick = 10;
  return {
    ppid: Number(fields[1]),
    own: (Number(fields[11]) + Number(fields[12])) * tick,
    reaped: (Number(fields[13]) + Number(fields[14])) * tick,
  };
}

/** CPU time a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  return procCpuMs(pid)?.own ?? Number.NaN;
}

/** CPU time Postgres has used so far, in ms: the postmaster and every backend, live or gone. */
export function postgresCpuMs(postmasterPid: number): number {
  const postmaster = procCpuMs(postmasterPid);
  if (!postmaster) return Number.NaN;
  let total = postmaster.own + postmaster.reaped;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const child = procCpuMs(Number(name));
    if (child?.ppid === postmasterPid) total += child.own;
  }
  return total;
}
