// First: the defaults below must be set before the logger and metrics are made.
import "./defaults";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import { docsAssets } from "@pregon/api/docs";
import {
  Actor,
  Audit,
  Database,
  Delivery,
  Email,
  Issuer,
  Log,
  snsPublisher,
  Template,
  Webhook,
} from "@pregon/core";
import { createAuditHandler } from "@pregon/functions/handlers/audit";
import { createFeedbackHandler } from "@pregon/functions/handlers/feedback";
import {
  createEmailSender,
  createPushSender,
  createSmsSender,
} from "@pregon/functions/handlers/sender";
import { createSweeper } from "@pregon/functions/handlers/sweeper";
import { createWebhookSender } from "@pregon/functions/handlers/webhooks";
import { start } from "@pregon/functions/start";
import { consumerTimeoutSeconds, leaseMs } from "@pregon/pipelines";
import { ensureBootstrapKey, ensureDevIssuer, ensureOtpPepper, prepareDatabase } from "./bootstrap";
import { loadLocalConfig } from "./config";
import * as DevIssuer from "./dev-issuer";
import { createInbox } from "./inbox";
import { startPoller } from "./poller";
import { startStack } from "./stack";
import { createWebhookCapture } from "./webhook-capture";

/** How often the local runtime runs the sweeper (EventBridge does on AWS). */
const sweepEveryMs = 60_000;

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
 * child processes, the HTTP app serves on PORT, each queue's Lambda handler is driven by a poller
 * and the sweeper runs every minute.
 */
async function main() {
  const config = loadLocalConfig();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  await mkdir(config.dataDir, { recursive: true });
  const stack = await startStack(config);
  stops.push(stack.stop);
  const pepper = await ensureOtpPepper(config);
  start({
    database: { url: await prepareDatabase(stack.databaseUrl) },
    publisher: snsPublisher(new SNSClient(stack.aws), stack.topics),
    // The emulator's S3 keeps objects in memory: stored templates live beside the database instead.
    templates: Template.fileStore(join(config.dataDir, "templates")),
    otpPepper: pepper,
    reputation: config.reputation,
    publicUrl: config.publicUrl,
    webhooks: {
      encryptionSecret: pepper,
      allowLoopback: config.webhookAllowLoopback,
      retry: { ...Webhook.defaultRetry, firstDelaySeconds: config.webhookRetrySeconds },
    },
  });
  // Local only (the development issuer is on loopback). Not in the shared start-up: on Lambda the
  // default stands, and the issuer module would weigh on every consumer's cold start.
  Issuer.configure({ allowLoopback: config.jwtAllowLoopback });
  stops.push(Database.close);
  const key = await ensureBootstrapKey(config);
  // The emulator's queues are in memory too: whatever the last run accepted and had not sent goes on its queue again, and
  // what that run's senders held comes back once their leases have ended. Not for a database on
  // another machine: a deployed stage may be sending those deliveries.
  if (["127.0.0.1", "localhost", "[::1]"].includes(new URL(stack.databaseUrl).hostname)) {
    const starting = { type: "system", reason: "start" } as const;
    await Actor.provide(starting, async () => {
      const pending = await Delivery.republishPending();
      if (pending > 0) Log.logger.info("deliveries queued again after a restart", { pending });
      const facts = await Audit.replayUnrecorded();
      if (facts > 0) Log.logger.info("unrecorded facts published again after a restart", { facts });
    });
    const afterLeases = setTimeout(
      () =>
        void Actor.provide(starting, () => Delivery.requeueAbandoned(0)).catch((error) =>
          Log.logger.error("requeue after restart failed", { error }),
        ),
      leaseMs,
    );
    stops.push(async () => clearTimeout(afterLeases));
  }

  const sqs = new SQSClient(stack.aws);
  const inbox = createInbox();
  const mailboxUrl = config.sesEndpoint ?? stack.mailboxUrl;
  const ses = new SESv2Client({ ...stack.aws, endpoint: mailboxUrl });
  const consumers = [
    {
      name: "email-sender",
      queue: stack.queues.email,
      handler: createEmailSender({ mailer: Email.sesMailer(ses), sendRate: config.sesMaxSendRate }),
    },
    {
      name: "sms-sender",
      queue: stack.queues.sms,
      handler: createSmsSender({ gateway: inbox.smsGateway, sendRate: config.sms.rate }),
    },
    {
      name: "push-sender",
      queue: stack.queues.push,
      handler: createPushSender({ gateway: inbox.pushGateway }),
    },
    { name: "feedback", queue: stack.queues.feedback, handler: createFeedbackHandler() },
    { name: "audit", queue: stack.queues.audit, handler: createAuditHandler() },
    {
      name: "webhooks",
      queue: stack.queues.webhooks,
      handler: createWebhookSender({ sqs, queueUrl: stack.queues.webhooks.url }),
    },
  ];
  for (const { name, queue, handler } of consumers) {
    const poller = startPoller(sqs, config.region, {
      name,
      queueUrl: queue.url,
      queueArn: queue.arn,
      handler,
      timeoutSeconds: consumerTimeoutSeconds,
    });
    stops.push(poller.stop);
  }
  const sweep = createSweeper();
  const sweeper = setInterval(
    () => void sweep().catch((error) => Log.logger.error("sweep failed", { error })),
    sweepEveryMs,
  );
  stops.push(async () => clearInterval(sweeper));

  const app = createApp({ email: config.email, sms: config.sms });
  // Local mode only: what SMS and push "sent" (the local senders record instead of sending).
  app.get("/dev/inbox", (c) => c.json(inbox.contents()));
  // Local mode only: a webhook receiver to point endpoints at, and what it received.
  app.route("/", createWebhookCapture());
  // On AWS the stage's CloudFront distribution serves the reference's script (infra/docs.ts).
  app.route("/", docsAssets());
  // Local mode only: an issuer of tokens, on this server (its port is known once it listens).
  let port = config.port;
  const issuer = () => DevIssuer.issuerUrl(port);
  app.route("/", DevIssuer.routes(issuer, await DevIssuer.publicJwk(config.dataDir)));
  const server = serve({ fetch: app.fetch, port: config.port, hostname: "127.0.0.1" });
  await new Promise<void>((ready, fail) => server.once("listening", ready).once("error", fail));
  stops.push(
    () =>
      new Promise((done) => {
        server.close(done);
        (server as Server).closeAllConnections();
      }),
  );
  port = (server.address() as AddressInfo).port;
  await ensureDevIssuer(port);
  const api = `http://localhost:${port}`;

  process.stdout.write(`
  Pregón is running on the local stack

  API          ${api}   (REST ${api}/v1, tRPC ${api}/trpc)
  API docs     ${api}/docs
  OpenAPI      ${api}/openapi.json
  Mailbox      ${mailboxUrl}   (every email SES would have sent)
  SMS, push    ${api}/dev/inbox   (every SMS and push notification sent)
  Webhooks     ${api}/dev/webhooks   (what endpoints at ${api}/dev/webhooks/receive got)
  AWS          ${stack.aws.endpoint}   (SQS, SNS: fauxqs)
  Postgres     ${stack.databaseUrl.replace(/:[^:@/]*@/, ":***@")}   (the app connects as ${Database.appRole})
  Email from   ${config.email.from}   (senders: ${config.email.senders.join(", ")})
  API key      ${key.secret}
               (${key.source}; every scope, project "default")
  Tokens       ${issuer()}   (development issuer; every scope, project "default")
               npm run pregon -- tokens mint   prints one

  Try:  curl -H "Authorization: Bearer ${key.secret}" ${api}/v1/me
        curl -H "Authorization: Bearer $(npm run -s pregon -- tokens mint)" ${api}/v1/me
  Stop: Ctrl-C
`);
}

main().catch((error) => {
  process.stderr.write(`pregon: ${error instanceof Error ? error.message : String(error)}\n`);
  void shutdown("failed to start", 1);
});
