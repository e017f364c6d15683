// A queue emulator that can be restarted: fauxqs 1.9.2's `buildApp` with stores this module
// keeps, so stopping the server (every connection and long poll cut, new ones refused) and starting
// a new one on the same port finds the same topics, queues, subscriptions and messages.
//
// fauxqs keeps its state in memory only, and `startFauxqs` (what stack.ts uses) neither exposes its
// stores nor can listen again once stopped: restarting *that* emulator would start it empty, losing
// every queued message — a failure SQS itself does not have. What this models is the queue service
// being unreachable for a while (every client call failing), which is the failure the code handles.

import type { AwsEndpoint } from "@pregon/local/stack";
import { type BuildAppOptions, buildApp } from "fauxqs";
import { region } from "./settings";

type Stores = NonNullable<BuildAppOptions["stores"]>;

/** The store classes are not exported; they are the package's own files beside its entry point. */
async function newStores(): Promise<Stores> {
  const entry = import.meta.resolve("fauxqs");
  const load = (file: string) => import(new URL(file, entry).href);
  const [{ SqsStore }, { SnsStore }, { S3Store }] = await Promise.all([
    load("./sqs/sqsStore.js"),
    load("./sns/snsStore.js"),
    load("./s3/s3Store.js"),
  ]);
  return { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() };
}

export interface RestartableFauxqs {
  aws: AwsEndpoint;
  /** Stops the server, waits `downMs`, starts a new one on the same port and stores. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRestartableFauxqs(): Promise<RestartableFauxqs> {
  const stores = await newStores();
  const listen = async (port: number) => {
    const app = buildApp({ logger: false, host: "localhost", defaultRegion: region, stores });
    await app.listen({ port, host: "127.0.0.1" });
    return app;
  };
  let app = await listen(0);
  const port = (app.server.address() as { port: number }).port;
  return {
    aws: {
      endpoint: `http://127.0.0.1:${port}`,
      region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    },
    async restart(downMs) {
      await app.close();
      await new Promise((done) => setTimeout(done, downMs));
      app = await listen(port);
    },
    stop: () => app.close(),
  };
}
