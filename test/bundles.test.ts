// The Lambda zips as `sst deploy` builds them (scripts/bundle.ts), each built once: their sizes,
// what they leave out, that none carries a source map; then each unpacked outside the repository as
// Lambda unpacks it, run in a Lambda-like process (test/support/lambda.ts) with the environment
// infra/ and SST give it (its variables, its links sealed in its zip's resource.enc), and driven
// with the event Lambda hands it, against this run's local stack. Only the AWS endpoints differ from
// AWS. Each zip carries the AWS SDK clients it uses: the unpacked code resolves no package from
// outside its zip (the runtime's own SDK is not used).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docsScriptPath } from "@pregon/api/docs";
import { Actor, Webhook } from "@pregon/core";
import { templatesBucket } from "@pregon/pipelines";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EnvName,
  everyFunctionEnvironment,
  type FunctionName,
  type FunctionSetting,
  functions,
  httpBundleLimitBytes,
  type Link,
  runtime,
  smsRatePerInstance,
  sweeperEvent,
  zipLimitBytes,
} from "../infra/settings";
import apiSample from "../packages/functions/src/fixtures/apigw-v2-event.json";
import {
  type Bundle,
  bundleEntry,
  packagesIn,
  root,
  sstEsbuildOptions,
  unwanted,
  unzip,
} from "../scripts/bundle";
import { acknowledge, mailbox, receive, receiveAll, uniqueDomain } from "./support/email";
import { projectWithKey, settings, until } from "./support/fixtures";
import { LambdaEnvironment } from "./support/lambda";
import { databaseUrl, ownerUrl, pipelines, stack } from "./support/setup";

const stage = "test";
const all = Object.entries(functions) as [FunctionName, FunctionSetting][];
const packageNames = (bundle: Bundle, where: "zip" | "import") =>
  packagesIn(bundle, where).map(([pkg]) => pkg);
const entryOf = (fn: FunctionName) => functions[fn].handler.replace(/\.[^./]+$/, ".ts");

// Outside the repository: the unpacked code finds no node_modules of ours, nor an AWS SDK.
const dir = mkdtempSync(join(tmpdir(), "pregon-lambda-"));

/** The Migrator's database: an empty one, as on a first deploy. */
const emptyDatabase = `migrator_${randomBytes(4).toString("hex")}`;
const pepper = randomBytes(32).toString("base64");

/** Each link as SST writes it into resource.enc (properties and type), for the local stack. */
function linkValues(database: string): Record<Link, Record<string, unknown>> {
  const owner = new URL(ownerUrl);
  const db = { host: owner.hostname, port: Number(owner.port), database };
  const topic = (arn: string) => ({ arn, type: "sst.aws.SnsTopic" });
  return {
    AppDatabase: { ...db, ...stack.app, type: "sst.sst.Linkable" },
    Database: {
      ...db,
      username: decodeURIComponent(owner.username),
      password: decodeURIComponent(owner.password),
      type: "sst.aws.Postgres",
    },
    OtpPepper: { value: pepper, type: "sst.sst.Secret" },
    Templates: { name: templatesBucket, type: "sst.aws.Bucket" },
    EmailTopic: topic(pipelines.topics.email),
    SmsTopic: topic(pipelines.topics.sms),
    PushTopic: topic(pipelines.topics.push),
    EventsTopic: topic(pipelines.topics.events),
    WebhooksTopic: topic(pipelines.topics.webhooks),
    WebhooksQueue: { url: pipelines.queues.webhooks.url, type: "sst.aws.Queue" },
  };
}

/** What infra/functions.ts sets, with this stage's values (unset: left out, as there). */
const variables: Record<EnvName, string | undefined> = {
  PREGON_STAGE: stage,
  PREGON_TRACING: undefined,
  NODE_ENV: "production",
  PREGON_EMAIL_FROM: settings.email.from,
  PREGON_SMS_COUNTRIES: settings.sms.countries.join(","),
  PREGON_EMAIL_SENDER_CONCURRENCY: String(functions.emailSender.trigger.maximumConcurrency),
  PREGON_SES_CONFIGURATION_SET: `pregon-${stage}-email`,
  PREGON_SMS_SENDER_ID: undefined,
  PREGON_SMS_ORIGINATION_NUMBER: undefined,
  PREGON_SMS_RATE: String(smsRatePerInstance(20)),
  PREGON_PUSH_APNS_APPLICATION_ARN: undefined,
  PREGON_PUSH_FCM_APPLICATION_ARN: undefined,
  PREGON_PUSH_APNS_SANDBOX: "false",
  // The stage's distribution (infra/docs.ts), as CloudFront names one.
  PREGON_DOCS_ORIGIN: "https://d111111abcdef8.cloudfront.net",
};

const bundles = new Map<FunctionName, Bundle>();
const tasks = new Map<FunctionName, string>();

beforeAll(async () => {
  const admin = postgres(stack.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${emptyDatabase}`);
  await admin.end();
  const database = new URL(ownerUrl).pathname.slice(1);
  for (const [name, setting] of all) {
    const values = linkValues(name === "migrator" ? emptyDatabase : database);
    const links = Object.fromEntries(setting.links.map((link) => [link, values[link]]));
    const bundle = await bundleEntry(entryOf(name), join(dir, "build", name), { links });
    bundles.set(name, bundle);
    const task = join(dir, name);
    await unzip(bundle.zip.file, task);
    tasks.set(name, task);
  }
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Lambda zips", () => {
  it("what the http and OTP imports load stays under 1,600 KiB, and every zip under 512 KiB", () => {
    for (const name of ["http", "otp"] as const) {
      expect(bundles.get(name)!.bytes, name).toBeLessThan(httpBundleLimitBytes);
    }
    for (const [name, bundle] of bundles) {
      expect(bundle.zip.bytes, name).toBeLessThan(zipLimitBytes);
    }
  });

  it("no zip carries a source map: each is written beside the bundle, for SST to upload apart", () => {
    for (const [name, bundle] of bundles) {
      expect(bundle.mapBytes, name).toBeGreaterThan(0);
      expect(
        bundle.zip.entries.filter((entry) => entry.endsWith(".map")),
        name,
      ).toEqual([]);
      expect(bundle.zip.entries, name).toEqual(
        expect.arrayContaining(["bundle.mjs", "resource.enc"]),
      );
    }
  });

  it("every file of a split build is in its zip, the chunks loaded only on demand too", () => {
    expect(runtime.nodejs.splitting).toBe(true);
    for (const [name, bundle] of bundles) {
      const scripts = bundle.outputs.map((output) => output.file);
      expect(scripts, name).toContain("bundle.mjs");
      expect(bundle.zip.entries, name).toEqual(expect.arrayContaining(scripts));
      // Each script's map stays out, beside it.
      for (const script of scripts) expect(bundle.zip.entries, name).not.toContain(`${script}.map`);
    }
    // The X-Ray tracer, loaded only where a stage traces, is a chunk of its own in every zip.
    for (const [name, bundle] of bundles) {
      expect(bundle.lazyBytes, name).toBeGreaterThan(0);
      expect(packageNames(bundle, "zip"), name).toContain("aws-xray-sdk-core");
      expect(packageNames(bundle, "import"), name).not.toContain("aws-xray-sdk-core");
    }
  });

  it("the migrator's zip carries every migration, under migrations/", () => {
    const migrations = join(root, functions.migrator.copyFiles[0].from);
    const expected = readdirSync(migrations, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join("migrations", e.parentPath.slice(migrations.length), e.name));
    const zip = bundles.get("migrator")!.zip;
    expect(expected.length).toBeGreaterThan(1);
    expect(zip.entries.filter((name) => name.startsWith("migrations/")).sort()).toEqual(
      expected.sort(),
    );
  });

  it("targets what SST targets for nodejs22.x, ES2023, not esnext", () => {
    expect(runtime.runtime).toBe("nodejs22.x");
    expect(sstEsbuildOptions(runtime).target).toBe("es2023");
  });

  it("every bundle imports only Node's own modules (the AWS SDK clients it uses are inside), no left-out package", () => {
    for (const [name, bundle] of bundles) {
      // What bundle.mjs and its chunks import from outside the build.
      const external = Object.values(bundle.metafile.outputs)
        .flatMap((output) => output.imports)
        .filter((i) => i.external && !isBuiltin(i.path))
        .map((i) => i.path);
      expect(external, name).toEqual([]);
      const names = packagesIn(bundle).map(([pkg]) => pkg);
      expect(
        names.filter((n) => unwanted.includes(n)),
        name,
      ).toEqual([]);
      expect(bundle.bytes, name).toBeLessThan(httpBundleLimitBytes);
    }
  });

  it("a bundle carries only what its function uses: S3 and SES where it renders or emails, phone metadata where it handles numbers", () => {
    const renderingAndPhones = ["@aws-sdk/client-s3", "@aws-sdk/client-sesv2", "libphonenumber-js"];
    const without: Partial<Record<FunctionName, string[]>> = {
      audit: renderingAndPhones,
      sweeper: renderingAndPhones,
      webhooks: renderingAndPhones,
      pushSender: renderingAndPhones,
      migrator: renderingAndPhones,
      emailSender: ["libphonenumber-js"],
    };
    for (const [name, left] of Object.entries(without) as [FunctionName, string[]][]) {
      const names = packagesIn(bundles.get(name)!).map(([pkg]) => pkg);
      for (const pkg of left) expect(names, name).not.toContain(pkg);
    }
    // The API renders (template checks), stores templates in S3 and checks numbers.
    const http = packagesIn(bundles.get("http")!).map(([pkg]) => pkg);
    expect(http).toEqual(
      expect.arrayContaining(["liquidjs", "@aws-sdk/client-s3", "libphonenumber-js"]),
    );
  });

  it("LiquidJS is in the zips of the functions that render, in no bundle's static imports: the API loads it when a template is first compiled, the senders in their start", () => {
    for (const name of ["http", "emailSender", "smsSender"] as const) {
      expect(packageNames(bundles.get(name)!, "zip"), name).toContain("liquidjs");
    }
    // Core's template module loads it with import(), a chunk esbuild writes into every zip whose
    // code reaches that module, rendering or not.
    for (const [name, bundle] of bundles) {
      expect(packageNames(bundle, "import"), name).not.toContain("liquidjs");
    }
  });

  it("the SNS client is in every zip, loaded at import where every invocation delivers or publishes through it, by the others when they first publish", () => {
    const always: FunctionName[] = ["smsSender", "pushSender", "otp", "emailSender", "feedback"];
    for (const [name, bundle] of bundles) {
      if (name === "migrator") continue;
      expect(packageNames(bundle, "zip"), name).toContain("@aws-sdk/client-sns");
      const atImport = packageNames(bundle, "import").includes("@aws-sdk/client-sns");
      expect(atImport, name).toBe(always.includes(name));
    }
  });

  it("the S3 client is in the zips of the functions that read stored templates, loaded when a template is first stored or read", () => {
    for (const name of ["http", "emailSender", "smsSender"] as const) {
      const bundle = bundles.get(name)!;
      expect(packageNames(bundle, "zip"), name).toContain("@aws-sdk/client-s3");
      expect(packageNames(bundle, "import"), name).not.toContain("@aws-sdk/client-s3");
    }
  });
});

describe("each zip, unpacked and run as Lambda runs it, with the events Lambda gives it", () => {
  const environments: LambdaEnvironment[] = [];
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  afterAll(async () => {
    for (const environment of environments) environment.stop();
    await sql.end();
  });

  /** A fresh execution environment of the function (its cold start comes with the first event). */
  function coldStart(name: FunctionName, extra: Record<string, string> = {}) {
    const setting: FunctionSetting = functions[name];
    const own = [...everyFunctionEnvironment, ...setting.environment].flatMap((variable) =>
      variables[variable] === undefined ? [] : [[variable, variables[variable]!]],
    );
    // infra/senders.ts gives the email sender the API's URL, where its unsubscribe links point.
    if (name === "emailSender") own.push(["PREGON_PUBLIC_URL", "https://api.pregon.test"]);
    const environment = new LambdaEnvironment({
      task: tasks.get(name)!,
      name: `pregon-${stage}-${name}`,
      timeoutSeconds: setting.timeoutSeconds,
      memoryMb: setting.memoryMb,
      environment: {
        ...Object.fromEntries(own),
        // SST's, on every function.
        SST_RESOURCE_App: JSON.stringify({ name: "pregon", stage }),
        SST_KEY: bundles.get(name)!.key,
        SST_KEY_FILE: "resource.enc",
        // The function role's credentials and region, as Lambda sets them.
        AWS_REGION: stack.aws.region,
        AWS_DEFAULT_REGION: stack.aws.region,
        AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_SESSION_TOKEN: "local",
        // What differs from AWS: the endpoints.
        AWS_ENDPOINT_URL_SNS: stack.aws.endpoint,
        AWS_ENDPOINT_URL_SQS: stack.aws.endpoint,
        AWS_ENDPOINT_URL_S3: stack.aws.endpoint,
        AWS_ENDPOINT_URL_SESV2: stack.mailboxUrl,
        ...extra,
      },
    });
    environments.push(environment);
    return environment;
  }

  /** An API Gateway HTTP API (payload 2.0) event for one of the function's routes. */
  function apiEvent(
    routeKey: string,
    method: string,
    path: string,
    secret?: string,
    body?: unknown,
  ) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return {
      ...apiSample,
      routeKey,
      rawPath: path,
      rawQueryString: "",
      cookies: undefined,
      queryStringParameters: undefined,
      headers: {
        ...apiSample.headers,
        "content-length": String(text ? Buffer.byteLength(text) : 0),
        ...(text && { "content-type": "application/json" }),
        ...(secret && { authorization: `Bearer ${secret}` }),
      },
      requestContext: {
        ...apiSample.requestContext,
        routeKey,
        http: { ...apiSample.requestContext.http, method, path },
      },
      body: text,
      isBase64Encoded: false,
    };
  }
  interface ApiResult {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  }
  const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

  const domain = uniqueDomain();
  const state = {
    secret: "",
    http: undefined as LambdaEnvironment | undefined,
    otp: undefined as LambdaEnvironment | undefined,
    sender: undefined as LambdaEnvironment | undefined,
    deliveryId: "",
  };
  it("the migrator migrates an empty database from its zip's migrations/, on the deploy's invocation", async () => {
    const migrator = coldStart("migrator");
    const journal = JSON.parse(
      readFileSync(
        join(root, functions.migrator.copyFiles[0].from, "meta", "_journal.json"),
        "utf8",
      ),
    ) as { entries: unknown[] };
    // infra/migrations.ts invokes it with `{}`.
    expect(await migrator.invoke({})).toEqual({
      migrationsFolder: join(tasks.get("migrator")!, "migrations"),
    });
    const connect = (url: string) =>
      postgres(url.replace(/\/[^/]+$/, `/${emptyDatabase}`), { max: 1, onnotice: () => {} });
    const owner = connect(ownerUrl);
    const app = connect(databaseUrl);
    try {
      const applied = async () =>
        (await owner`select count(*)::int as n from drizzle.__drizzle_migrations`)[0]!.n;
      expect(await applied()).toBe(journal.entries.length);
      // The application role reads the new tables: the Migrator applied its grants.
      const [deliveries] = await app`select count(*)::int as n from deliveries`;
      expect(deliveries!.n).toBe(0);
      // A second deploy's run finds nothing to do.
      await migrator.invoke({});
      expect(await applied()).toBe(journal.entries.length);
    } finally {
      await Promise.all([owner.end(), app.end()]);
    }
  });

  it("the http function answers API Gateway events: /health, /openapi.json, and a send, published to its topic", async () => {
    const { secret } = await projectWithKey(["emails:send", "otp:send", "otp:verify"]);
    state.secret = secret;
    state.http = coldStart("http");
    const health = await state.http.invoke<ApiResult>(apiEvent("$default", "GET", "/health"));
    expect([health.statusCode, JSON.parse(health.body)]).toEqual([200, { status: "ok" }]);
    const openapi = await state.http.invoke<ApiResult>(
      apiEvent("$default", "GET", "/openapi.json"),
    );
    expect(openapi.statusCode).toBe(200);
    expect(JSON.parse(openapi.body).openapi).toMatch(/^3\.1/);
    const sent = await state.http.invoke<ApiResult>(
      apiEvent("$default", "POST", "/v1/emails", secret, {
        to: [`ana@${domain}`],
        subject: "Artifact subject",
        text: "Artifact body",
      }),
    );
    expect(sent.statusCode, sent.body).toBe(202);
    expect(JSON.parse(sent.body)).toMatchObject({ channel: "email", recipients: { accepted: 1 } });
  });

  it("the http function stores a template in S3 and reads it back: the S3 client's chunk loads from the zip", async () => {
    const { secret } = await projectWithKey(["templates:read", "templates:write"]);
    const source = { subject: "Hola {{ name }}", html: "<p>Bienvenida, {{ name }}</p>" };
    const put = await state.http!.invoke<ApiResult>(
      apiEvent("$default", "PUT", "/v1/templates/artifact", secret, source),
    );
    expect(put.statusCode, put.body).toBe(200);
    const got = await state.http!.invoke<ApiResult>(
      apiEvent("$default", "GET", "/v1/templates/artifact", secret),
    );
    expect(got.statusCode, got.body).toBe(200);
    expect(JSON.parse(got.body)).toMatchObject({ key: "artifact", ...source });
  });

  it("the email sender takes the SQS event, and the email lands in the mailbox", async () => {
    const [record] = await receiveAll(1);
    state.deliveryId = JSON.parse(record!.body).deliveryIds[0];
    // Its cold start asks SES for the account's rate (GetAccount), as on AWS.
    state.sender = coldStart("emailSender");
    expect(await state.sender.invoke(sqsEvent(record!))).toEqual({ batchItemFailures: [] });
    await acknowledge([record!]);
    const [email] = await mailbox(domain);
    expect(email).toMatchObject({
      destination: { to: [`ana@${domain}`] },
      subject: "Artifact subject",
      body: { text: "Artifact body" },
    });
  });

  it("the OTP function answers a send and a verify; the code goes out through the email sender", async () => {
    state.otp = coldStart("otp");
    const to = `otp@${domain}`;
    const sent = await state.otp.invoke<ApiResult>(
      apiEvent("POST /v1/otp", "POST", "/v1/otp", state.secret, { channel: "email", to }),
    );
    expect(sent.statusCode, sent.body).toBe(201);
    const { id } = JSON.parse(sent.body) as { id: string };
    const [record] = await receiveAll(1);
    expect(await state.sender!.invoke(sqsEvent(record!))).toEqual({ batchItemFailures: [] });
    await acknowledge([record!]);
    const email = (await mailbox(domain)).find((e) => e.destination.to[0] === to)!;
    const code = /is (\d{6})\./.exec(email.body.text!)![1]!;
    const verify = (guess: string) =>
      state.otp!.invoke<ApiResult>(
        apiEvent("ANY /v1/otp/{proxy+}", "POST", "/v1/otp/verify", state.secret, {
          id,
          code: guess,
        }),
      );
    const wrong = await verify(code === "000000" ? "111111" : "000000");
    expect(JSON.parse(wrong.body)).toMatchObject({ valid: false, reason: "invalid" });
    const right = await verify(code);
    expect([right.statusCode, JSON.parse(right.body)]).toEqual([200, { valid: true }]);
  });

  it("the feedback function takes SES's event from its SQS queue: the email is delivered", async () => {
    const feedback = coldStart("feedback");
    // SES event publishing, as SNS delivers it raw to the feedback queue.
    const body = JSON.stringify({
      eventType: "Delivery",
      mail: {
        timestamp: new Date().toISOString(),
        source: "no-reply@pregon.test",
        messageId: "0100018f-artifact",
        destination: [`ana@${domain}`],
        tags: { delivery_id: [state.deliveryId] },
      },
      delivery: {
        timestamp: new Date().toISOString(),
        processingTimeMillis: 420,
        recipients: [`ana@${domain}`],
        smtpResponse: "250 2.0.0 OK",
        reportingMTA: "a8-1.smtp-out.amazonses.com",
      },
    });
    const record: SQSRecord = {
      messageId: "6d2f4a1c-feedback",
      receiptHandle: "handle",
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "AIDAEXAMPLE",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash("md5").update(body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: pipelines.queues.feedback.arn,
      awsRegion: stack.aws.region,
    };
    expect(await feedback.invoke(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    const [delivery] = await sql`select status from deliveries where id = ${state.deliveryId}`;
    expect(delivery!.status).toBe("delivered");
  });

  it("the audit function takes the facts from its SQS queue into the audit log", async () => {
    const audit = coldStart("audit");
    const records = await receiveAll(1, "audit");
    // What else arrived meanwhile, up to Lambda's batch of 10.
    for (let more = await receive("audit"); more.length; more = await receive("audit")) {
      records.push(...more);
      if (records.length >= 10) break;
    }
    expect(await audit.invoke(sqsEvent(...records.slice(0, 10)))).toEqual({
      batchItemFailures: [],
    });
    await acknowledge(records.slice(0, 10), "audit");
    const types = (await sql`select distinct type from audit_log`).map((row) => row.type);
    expect(types).toEqual(expect.arrayContaining(["notification.accepted", "delivery.sent"]));
  });

  it("the webhooks function attempts a message under the deployed rules: no loopback, the refusal recorded, the message kept for its retry", async () => {
    const webhooks = coldStart("webhooks");
    // Made in this process, where loopback is allowed for the moment; on AWS it is not.
    Webhook.configure({ encryptionSecret: pepper, allowLoopback: true });
    const { project } = await projectWithKey();
    const endpoint = await Actor.provide(
      { type: "system", reason: "cli", projectId: project.id },
      () => Webhook.create({ url: "http://127.0.0.1:9/hook" }),
    );
    Webhook.configure({ encryptionSecret: pepper });
    const fact = {
      type: "key.created",
      version: 1,
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      projectId: project.id,
      actor: { type: "system", reason: "cli" },
      subject: endpoint.id,
      data: { keyId: endpoint.id },
    };
    expect(await Webhook.fanOut([JSON.stringify(fact)])).toBe(1);
    const [record] = await receiveAll(1, "webhooks");
    expect(await webhooks.invoke(sqsEvent(record!))).toEqual({
      batchItemFailures: [{ itemIdentifier: record!.messageId }],
    });
    const [attempt] =
      await sql`select status, error from webhook_attempts where endpoint_id = ${endpoint.id}`;
    expect(attempt).toMatchObject({ status: "failed" });
    expect(attempt!.error).toMatch(/HTTPS|loopback/);
  });

  it("the sweeper runs on what its schedule sends", async () => {
    const sweeper = coldStart("sweeper");
    const result = await sweeper.invoke<Record<string, number>>(sweeperEvent);
    expect(Object.keys(result).sort()).toEqual(
      [
        "completed",
        "counters",
        "forgotten",
        "otps",
        "paused",
        "purged",
        "republished",
        "requeued",
        "stranded",
        "webhookMessages",
      ].sort(),
    );
    for (const count of Object.values(result)) expect(typeof count).toBe("number");

    // Its log lines name the function and the invocation, and tell the cold start from the rest.
    await sweeper.invoke(sweeperEvent);
    const sweeps = sweeper.logs
      .split("\n")
      .filter((line) => line.includes('"sweep done"'))
      .map((line) => JSON.parse(line));
    expect(sweeps).toMatchObject([
      { function_name: `pregon-${stage}-sweeper`, cold_start: true },
      { function_name: `pregon-${stage}-sweeper`, cold_start: false },
    ]);
    expect(sweeps[0].function_request_id).toBeTruthy();
    expect(sweeps[1].function_request_id).not.toBe(sweeps[0].function_request_id);
  });

  it("the http function's /docs loads the reference's script from the stage's distribution", async () => {
    const page = await state.http!.invoke<ApiResult>(apiEvent("$default", "GET", "/docs"));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<script src="${variables.PREGON_DOCS_ORIGIN}${docsScriptPath}">`);
    // No zip carries the script: the distribution serves it from S3.
    for (const [name, bundle] of bundles) {
      expect(
        bundle.zip.entries.filter((entry) => entry.endsWith(".js")),
        name,
      ).toEqual([]);
    }
  });

  it("with the stage's tracing on, the http function sends X-Ray its invocation and its AWS calls, and no key, address or body", async () => {
    // The X-Ray daemon Lambda runs beside a traced function: UDP, one segment per datagram.
    const daemon = createSocket("udp4");
    const segments: Record<string, unknown>[] = [];
    const datagrams: string[] = [];
    daemon.on("message", (message) => {
      const text = message.toString();
      datagrams.push(text);
      segments.push(JSON.parse(text.slice(text.indexOf("\n") + 1)));
    });
    await new Promise<void>((bound) => daemon.bind(0, "127.0.0.1", bound));
    try {
      const traced = coldStart("http", {
        PREGON_TRACING: "true",
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
        AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR",
        _X_AMZN_TRACE_ID:
          "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e;Parent=53995c3f42cd8ad8;Sampled=1",
      });
      const sent = await traced.invoke<ApiResult>(
        apiEvent("$default", "POST", "/v1/emails", state.secret, {
          to: [`traced@${domain}`],
          subject: "Artifact subject",
          text: "Artifact body",
        }),
      );
      expect(sent.statusCode, sent.body).toBe(202);
      const invocation = () =>
        segments.find((segment) => segment.name === "## bundle.handler") as
          | { annotations: Record<string, unknown>; subsegments?: { name: string }[] }
          | undefined;
      await until(async () => invocation() !== undefined);
      expect(invocation()!.annotations).toMatchObject({
        ColdStart: true,
        Service: "pregon",
        stage,
      });
      const calls = JSON.stringify(segments);
      expect(calls).toMatch(/"name":"SNS"/);
      expect(calls).toMatch(/"operation":"PublishBatch"/);
      for (const secret of [state.secret, domain, "Artifact subject", "Artifact body"]) {
        expect(datagrams.join(""), secret).not.toContain(secret);
      }
      await acknowledge(await receiveAll(1));
    } finally {
      daemon.close();
    }
  });

  it("their logs carry no key, code, address or body; their metrics carry the stage", () => {
    const logs = environments.map((environment) => environment.logs).join("");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [state.secret, domain, "Artifact subject", "Artifact body", pepper]) {
      expect(logs).not.toContain(secret);
    }
    const metrics = logs
      .split("\n")
      .filter((line) => line.includes('"CloudWatchMetrics"'))
      .map((line) => JSON.parse(line));
    expect(metrics.length).toBeGreaterThan(0);
    for (const entry of metrics) {
      expect(entry._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: "Pregon",
        Dimensions: [["service", "stage"]],
      });
      expect([entry.service, entry.stage]).toEqual(["pregon", stage]);
    }
    expect(metrics.some((entry) => entry.EmailsAccepted)).toBe(true);
  });
});
