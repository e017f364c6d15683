import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@pregon/local/stack";

const root = join(import.meta.dirname, "..", "..");
const started: ChildProcess[] = [];

// `node --import tsx …`: Node itself, with no runner between it and the signals.
const [, ...args] = JSON.parse(
  readFileSync(join(root, "package.json"), "utf8"),
).scripts.start.split(" ");

/**
 * What `npm start` runs, in a process group of its own: a signal to the group is what Ctrl-C in
 * a terminal sends. (Through npm itself the exit code would be npm's, not Pregón's.) `ready`
 * resolves with the output so far once the banner is out.
 */
export function start(env: Record<string, string>) {
  const { DATABASE_URL: _ours, ...inherited } = process.env;
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...inherited, LOG_LEVEL: "INFO", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  started.push(child);
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => output.includes("Stop: Ctrl-C") && resolve(output));
    void exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  const signal = (name: NodeJS.Signals) => process.kill(-child.pid!, name);
  return { child, signal, ready, exited, output: () => output };
}

/** Kills what `start` started and is still running (for afterAll). */
export function killStarted() {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
  }
}

/** Free ports for everything `npm start` listens on. */
export async function ports() {
  return {
    PORT: String(await freePort()),
    PREGON_PG_PORT: String(await freePort()),
    PREGON_AWS_PORT: String(await freePort()),
    PREGON_MAILBOX_PORT: String(await freePort()),
  };
}
