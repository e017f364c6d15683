// The stack the benchmarks run on: what `npm start` runs (packages/local/src/main.ts),
// in this process, on its own temp data dir and free loopback ports, with a Postgres that can be
// restarted on the same data dir and port, and a bench project whose send limits are out of the way.

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import {
  Actor,
  ApiKey,
  Clock,
  Database,
  Notification,
  Otp,
  Project,
  RateLimit,
  Template,
} from "@pregon/core";
import { s3Store } from "@pregon/core/template/s3";
import { prepareDatabase } from "@pregon/local/bootstrap";
import { freePort, type Stack, startPostgres, startStack } from "@pregon/local/stack";
import postgres from "postgres";
import { otpRules, pepper, region, settings } from "./settings";

export interface BenchProject {
  id: string;
  /** An admin key of the project. */
  secret: string;
}

export interface BenchStack {
  stack: Stack;
  /** The database as its owner (the app connects as the application role). */
  databaseUrl: string;
  /** The database as the application role, as `npm start` serves. */
  appDatabaseUrl: string;
  /** The Postgres server's main process (its backends are its children). */
  postgresPid(): number;
  /** The HTTP app (the same Hono app `npm start` serves). */
  apiUrl: string;
  /** A fresh project with an admin key and limits far above what the benchmarks send. */
  project(name: string): Promise<BenchProject>;
  /** Stops Postgres (fast shutdown, as Ctrl-C does), waits `downMs`, starts it on the same dir and port. */
  restartPostgres(downMs: number): Promise<{ stoppedMs: number; startedMs: number }>;
  /** Moves Pregón's clock (core `Clock`) forward: what the sweeper would otherwise wait for. */
  advanceClock(ms: number): void;
  /**
   * Leaves Postgres idle before a section: what earlier sections wrote is vacuumed, analyzed and
   * checkpointed now, so that background work is not counted in the next section's CPU per request.
   */
  settle(): Promise<void>;
  /** Empties the local SES mailbox. */
  clearMailbox(): Promise<void>;
  /** Recipients (lower-cased `to` addresses) of every email in the mailbox, one entry per email. */
  mailboxRecipients(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startBenchStack(): Promise<BenchStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "pregon-bench-"));
  const pgPort = await freePort();
  // Durable, as `npm start` runs it (the tests turn fsync off; a benchmark should not).
  let pg = await startPostgres({ dataDir, port: pgPort });
  const stack = await startStack({
    dataDir,
    databaseUrl: pg.url,
    pgPort,
    awsPort: 0,
    mailboxPort: 0,
    region,
  });
  // As the application role, as `npm start` serves.
  const appDatabaseUrl = await prepareDatabase(pg.url);
  Database.configure({ url: appDatabaseUrl });
  Otp.configure({ pepper, rules: otpRules });
  Template.configure(s3Store(new S3Client({ ...stack.aws, forcePathStyle: true }), stack.bucket));
  let offsetMs = 0;
  Clock.use({ now: () => new Date(Date.now() + offsetMs) });

  const app = createApp(settings);
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((ready, fail) => server.once("listening", ready).once("error", fail));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    stack,
    databaseUrl: pg.url,
    appDatabaseUrl,
    postgresPid: () =>
      Number(readFileSync(join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]),
    apiUrl,
    async project(name) {
      const project = await Project.create(`${name}-${Date.now()}`);
      const key = await Actor.provide(
        { type: "system", reason: "cli", projectId: project.id },
        () => ApiKey.create({ name: "bench", scopes: ["admin"] }),
      );
      const high = { requestsPerMinute: 10_000_000, recipientsPerDay: 10_000_000 };
      for (const channel of Notification.Channel.options) {
        await RateLimit.setLimits(project.id, channel, high);
      }
      return { id: project.id, secret: key.secret };
    },
    async restartPostgres(downMs) {
      const start = performance.now();
      await pg.stop();
      const stoppedMs = performance.now() - start;
      await new Promise((done) => setTimeout(done, downMs));
      const before = performance.now();
      pg = await startPostgres({ dataDir, port: pgPort });
      return { stoppedMs, startedMs: performance.now() - before };
    },
    advanceClock(ms) {
      offsetMs += ms;
    },
    async settle() {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        await sql`vacuum (analyze)`;
        await sql`checkpoint`;
        // Autovacuum workers started before the vacuum may still be finishing.
        for (let i = 0; i < 100; i++) {
          const [row] = await sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where backend_type = 'autovacuum worker'`;
          if (row!.n === 0) break;
          await new Promise((done) => setTimeout(done, 100));
        }
      } finally {
        await sql.end();
      }
    },
    async clearMailbox() {
      await fetch(`${stack.mailboxUrl}/clear-store`, { method: "POST" });
    },
    async mailboxRecipients() {
      const store = (await (await fetch(`${stack.mailboxUrl}/store`)).json()) as {
        emails: Array<{ destination: { to: string[] } }>;
      };
      return store.emails.flatMap((email) =>
        email.destination.to.map((to) => (/<([^>]+)>/.exec(to)?.[1] ?? to).toLowerCase()),
      );
    },
    async stop() {
      await new Promise((done) => {
        server.close(done);
        server.closeAllConnections();
      });
      await Database.close();
      await stack.stop();
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
