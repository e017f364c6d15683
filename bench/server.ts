// A child process the API section measures: the Hono app `npm start` serves (REST and tRPC) and
// the bare baseline (bench/baseline.ts), configured as bench/stack.ts configures the bench's own
// process, under the environment bench/child.ts gives its mode.
//
//   node --import tsx bench/server.ts '<ServerConfig as JSON>'   (bench/child.ts spawns it)

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import { Database, Otp, Outbox, snsPublisher, Template } from "@pregon/core";
import { s3Store } from "@pregon/core/template/s3";
import type { AwsEndpoint, Stack } from "@pregon/local/stack";
import { startBaseline } from "./baseline";
import { serving } from "./child";
import { otpRules, pepper, settings } from "./settings";

export interface ServerConfig {
  /** As the application role, as `npm start` serves. */
  databaseUrl: string;
  aws: AwsEndpoint;
  topics: Stack["topics"];
  bucket: string;
  /** The project the baseline writes for. */
  projectId: string;
}

const config = JSON.parse(process.argv[2]!) as ServerConfig;
Database.configure({ url: config.databaseUrl });
Otp.configure({ pepper, rules: otpRules });
Outbox.configure(snsPublisher(new SNSClient(config.aws), config.topics));
Template.configure(s3Store(new S3Client({ ...config.aws, forcePathStyle: true }), config.bucket));

const server = serve({
  fetch: createApp(settings).fetch,
  port: 0,
  hostname: "127.0.0.1",
}) as Server;
await new Promise<void>((ready, fail) => server.once("listening", ready).once("error", fail));
const baseline = await startBaseline(config.projectId);

serving(
  { api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, baseline: baseline.url },
  // The process exits next: requests still in flight (autocannon's last ones) die with it
  // rather than meet a closed database pool.
  async () => {
    server.closeAllConnections();
    await baseline.close();
  },
);
