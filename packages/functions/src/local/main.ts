import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import { Database, Log } from "@pregon/core";
import { loadLocalConfig } from "../config";
import { ensureBootstrapKey } from "./bootstrap";
import { startStack } from "./stack";

/** What to undo on the way out, newest first. */
const stops: Array<() => Promise<unknown>> = [];
let stopping = false;

/** Stops every part once, whatever number of signals arrive (Ctrl-C reaches each process). */
async function shutdown(reason: string, exitCode: number) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${reason}: stopping Pregón…\n`);
  setTimeout(() => {
    process.stderr.write("pregon: shutdown took over 15 s; exiting anyway\n");
    process.exit(1);
  }, 15_000).unref();
  for (const stop of stops.reverse()) {
    await stop().catch((error) => Log.logger.error("stop failed", { error }));
  }
  process.stdout.write("stopped\n");
  process.exit(exitCode);
}

/**
 * `npm start`: the whole service on this machine. Postgres, SQS/SNS/S3 and SES run in-process or as
 * child processes, the HTTP app serves on PORT, and each queue's Lambda handler is driven by a
 * poller (none yet: channels come with their issues).
 */
async function main() {
  const config = loadLocalConfig();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  await mkdir(config.dataDir, { recursive: true });
  const stack = await startStack(config);
  stops.push(stack.stop);
  await Database.migrate(stack.databaseUrl);
  Database.configure({ url: stack.databaseUrl });
  stops.push(Database.close);
  const key = await ensureBootstrapKey(config);

  const server = serve({ fetch: createApp().fetch, port: config.port, hostname: "127.0.0.1" });
  await new Promise<void>((ready, fail) => server.once("listening", ready).once("error", fail));
  stops.push(
    () =>
      new Promise((done) => {
        server.close(done);
        (server as Server).closeAllConnections();
      }),
  );
  const api = `http://localhost:${(server.address() as AddressInfo).port}`;

  process.stdout.write(`
  Pregón is running on the local stack

  API          ${api}   (REST ${api}/v1, tRPC ${api}/trpc)
  API docs     ${api}/docs
  OpenAPI      ${api}/openapi.json
  Mailbox      ${stack.mailboxUrl}   (every email SES would have sent)
  AWS          ${stack.aws.endpoint}   (SQS, SNS, S3: fauxqs)
  Postgres     ${stack.databaseUrl.replace(/:[^:@/]*@/, ":***@")}
  Email from   ${config.emailFrom}
  API key      ${key.secret}
               (${key.source}; every scope, project "default")

  Try:  curl -H "Authorization: Bearer ${key.secret}" ${api}/v1/me
  Stop: Ctrl-C
`);
}

main().catch((error) => {
  process.stderr.write(`pregon: ${error instanceof Error ? error.message : String(error)}\n`);
  void shutdown("failed to start", 1);
});
