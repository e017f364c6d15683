// The properties of the deployment that matter, checked from infra/settings.ts (plain data: the infra
// files build every resource from it) and, where a decision lives in an infra file's text, from
// that text. Each check relates two numbers or two lists, so editing one side alone fails here.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { appRouter, buildOpenApiDocument } from "@pregon/api";
import { poolSize } from "@pregon/functions/lambda";
import { leaseMs, pipelines, strandedAfterMs } from "@pregon/functions/pipelines";
import { describe, expect, it } from "vitest";
import {
  alarms,
  connectionDemand,
  database,
  defaultSmsCountries,
  encryption,
  type FunctionSetting,
  functions,
  keyServiceActions,
  keyServicePrincipals,
  maxInstances,
  otpRoutes,
  proxyConnectionBudget,
  publishedTopics,
  queues,
  readDeployConfig,
  runtime,
  smsRatePerInstance,
} from "../infra/settings";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const all = Object.entries(functions) as [string, FunctionSetting][];
const consumers = all.filter(([, f]) => f.trigger.kind === "queue");

describe("database connections", () => {
  it("every function together, at its most instances, stays under the proxy's budget", () => {
    const budget = Math.floor(
      (database.maxConnections * database.proxyMaxConnectionsPercent) / 100,
    );
    expect(proxyConnectionBudget()).toBe(budget);
    // Counted here again, not through connectionDemand() alone.
    let demand = database.operatorConnections;
    for (const [name, setting] of all) {
      if (!setting.links.includes("Database")) continue;
      const { trigger } = setting;
      const instances =
        trigger.kind === "queue" ? trigger.maximumConcurrency : trigger.reservedConcurrency;
      expect(instances, `${name} must have a bounded concurrency`).toBeGreaterThan(0);
      demand += instances * poolSize;
    }
    expect(connectionDemand()).toBe(demand);
    expect(demand).toBeLessThanOrEqual(budget);
    // What the proxy may open leaves the superuser-reserved connections free.
    expect(budget).toBeLessThanOrEqual(database.maxConnections - database.reservedConnections);
  });

  it("the pool size the Lambdas open is the one counted", () => {
    expect(poolSize).toBe(database.connectionsPerInstance);
  });

  it("queue consumers' maximum concurrency is one SQS accepts (2 to 1000)", () => {
    for (const [name, setting] of consumers) {
      const n = maxInstances(setting);
      expect(n, name).toBeGreaterThanOrEqual(2);
      expect(n, name).toBeLessThanOrEqual(1000);
    }
  });

  it("the sweeper's run ends before the next one starts (reserved concurrency 1 drops none)", () => {
    const { trigger, timeoutSeconds } = functions.sweeper;
    expect(timeoutSeconds).toBeLessThan(trigger.everyMinutes * 60);
    expect(trigger.reservedConcurrency).toBe(1);
  });
});

describe("queues", () => {
  it("every pipeline has its queue, and every queue exactly one consumer", () => {
    expect(queues.map((q) => q.queue)).toEqual(pipelines.map((p) => p.queue));
    for (const queue of queues) {
      const on = consumers.filter(
        ([, f]) => f.trigger.kind === "queue" && f.trigger.queue === queue.queue,
      );
      expect(on, queue.queue).toHaveLength(1);
    }
  });

  it("hide a message for at least 6x its consumer's timeout, and the sender's lease fits between", () => {
    for (const [name, setting] of consumers) {
      if (setting.trigger.kind !== "queue") continue;
      const { queue } = setting.trigger;
      const { visibilityTimeoutSeconds } = queues.find((q) => q.queue === queue)!;
      expect(setting.timeoutSeconds * 6, name).toBeLessThanOrEqual(visibilityTimeoutSeconds);
      expect(leaseMs).toBeGreaterThan(setting.timeoutSeconds * 1000);
      expect(leaseMs).toBeLessThan(visibilityTimeoutSeconds * 1000);
    }
  });

  it("move a message to a DLQ after 5 receives; the DLQ keeps it longer than SQS's default 4 days", () => {
    for (const queue of queues) {
      expect(queue.dlq.maxReceiveCount, queue.queue).toBe(5);
      expect(queue.dlq.retentionSeconds).toBeGreaterThan(4 * 24 * 3600);
      expect(queue.subscription.rawMessageDelivery, queue.queue).toBe(true);
    }
  });

  it("drop a message only after its deliveries would be republished by the sweeper, and the DLQ keeps it longer", () => {
    const messaging = readFileSync(join(root, "infra", "messaging.ts"), "utf8");
    expect(messaging).toContain("messageRetentionSeconds: pipeline.retentionSeconds");
    for (const queue of queues) {
      // A delivery queued longer than its queue keeps messages has none left: the sweeper
      // republishes it then, never while a slow backlog can still be on the queue.
      expect(strandedAfterMs, queue.queue).toBeGreaterThan(queue.retentionSeconds * 1000);
      // Until then, an operator can still redrive it from the DLQ.
      expect(queue.dlq.retentionSeconds * 1000, queue.queue).toBeGreaterThan(strandedAfterMs);
    }
  });

  it("have an alarm on each DLQ and on each consumer's errors", () => {
    for (const queue of queues) {
      expect(
        alarms.some((a) => "dlq" in a.on && a.on.dlq === queue.queue),
        queue.queue,
      ).toBe(true);
    }
    for (const [name] of consumers) {
      expect(
        alarms.some((a) => "function" in a.on && a.on.function === name),
        name,
      ).toBe(true);
    }
  });
});

describe("encryption at rest", () => {
  const keyArn = "arn:aws:kms:us-east-1:111111111111:key/test";

  it("topics, queues and the bucket name the key", () => {
    expect(encryption.topic(keyArn).kmsMasterKeyId).toBe(keyArn);
    expect(encryption.queue(keyArn).kmsMasterKeyId).toBe(keyArn);
    expect(encryption.bucket(keyArn).applyServerSideEncryptionByDefault).toEqual({
      sseAlgorithm: "aws:kms",
      kmsMasterKeyId: keyArn,
    });
  });

  it("the key admits SNS, SES and CloudWatch to encrypt and decrypt", () => {
    expect([...keyServicePrincipals].sort()).toEqual(
      ["cloudwatch.amazonaws.com", "ses.amazonaws.com", "sns.amazonaws.com"].sort(),
    );
    expect(keyServiceActions).toEqual(expect.arrayContaining(["kms:Decrypt"]));
    expect(keyServiceActions.some((a) => a.startsWith("kms:GenerateDataKey"))).toBe(true);
  });

  /** The text of each `new <component>(...)` call in infra/*.ts. */
  function constructions(component: string) {
    const found: { file: string; text: string }[] = [];
    for (const file of readdirSync(join(root, "infra")).filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(join(root, "infra", file), "utf8");
      let at = source.indexOf(`new ${component}(`);
      while (at !== -1) {
        let depth = 0;
        let end = at + `new ${component}`.length;
        do {
          if (source[end] === "(") depth++;
          if (source[end] === ")") depth--;
          end++;
        } while (depth > 0 && end < source.length);
        found.push({ file, text: source.slice(at, end) });
        at = source.indexOf(`new ${component}(`, end);
      }
    }
    return found;
  }

  it("every topic and queue infra/ declares is given the key", () => {
    const declared = [...constructions("sst.aws.SnsTopic"), ...constructions("sst.aws.Queue")];
    // messaging.ts declares a topic, a queue and a DLQ per pipeline in one place; alarms.ts a topic.
    expect(declared.length).toBeGreaterThanOrEqual(4);
    for (const { file, text } of declared) expect(text, file).toMatch(/kmsMasterKeyId/);
    expect(constructions("aws.sns.Topic")).toEqual([]);
    expect(constructions("aws.sqs.Queue")).toEqual([]);
  });

  it("every bucket has an SSE-KMS configuration", () => {
    const buckets = constructions("sst.aws.Bucket");
    const configs = constructions("aws.s3.BucketServerSideEncryptionConfiguration");
    expect(buckets.length).toBeGreaterThan(0);
    for (const bucket of buckets) {
      const name = /const (\w+) = $/.exec(
        readFileSync(join(root, "infra", bucket.file), "utf8").split(bucket.text)[0]!,
      )?.[1];
      expect(
        configs.some(
          (c) => c.text.includes(`bucket: ${name}.name`) && /encryption\.bucket/.test(c.text),
        ),
        `${bucket.file}: ${name}`,
      ).toBe(true);
    }
  });

  it("every function that reads or writes an encrypted resource gets the key", () => {
    const functionsSource = readFileSync(join(root, "infra", "functions.ts"), "utf8");
    expect(functionsSource).toMatch(/usesKey\(setting\)/);
    expect(functionsSource).toMatch(/"kms:Decrypt", "kms:GenerateDataKey"/);
  });
});

describe("the OTP function (the seed's Lambda OTP)", () => {
  const otp = functions.otp;

  it("has its own reserved concurrency and no templates bucket, SES or SNS beyond its topics", () => {
    expect(otp.trigger.reservedConcurrency).toBeGreaterThan(0);
    expect(otp.links).not.toContain("Templates");
    expect(otp.permissions).toEqual([]);
    expect([...otp.links].sort()).toEqual(["Database", "OtpPepper", ...publishedTopics].sort());
    // Narrower than the http function, which runs the same app.
    for (const link of otp.links) expect(functions.http.links).toContain(link);
  });

  it("routes every OTP procedure, by tRPC and by REST, and nothing else", () => {
    const procedures = Object.keys(appRouter._def.procedures).filter((p) => p.startsWith("otp."));
    const trpc = otpRoutes.filter((r) => r.includes("/trpc/")).map((r) => r.split("/trpc/")[1]);
    expect(trpc.sort()).toEqual(procedures.sort());
    const document = buildOpenApiDocument() as unknown as {
      paths: Record<string, Record<string, unknown>>;
    };
    const rest = otpRoutes.filter((r) => r.includes(" /v1/"));
    const routed = (method: string, path: string) =>
      rest.some((route) => {
        const [verb, pattern] = route.split(" ") as [string, string];
        const matches = pattern.endsWith("/{proxy+}")
          ? path.startsWith(pattern.replace("{proxy+}", "")) &&
            path.length > pattern.length - "{proxy+}".length
          : path === pattern;
        return matches && (verb === "ANY" || verb === method.toUpperCase());
      });
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        const isOtp = path === "/v1/otp" || path.startsWith("/v1/otp/");
        expect(routed(method, path), `${method} ${path}`).toBe(isOtp);
      }
    }
  });

  it("gets the SMS countries, as the http function does", () => {
    expect(otp.environment).toContain("PREGON_SMS_COUNTRIES");
    expect(functions.http.environment).toContain("PREGON_SMS_COUNTRIES");
  });
});

describe("least privilege", () => {
  it("only the senders may send, each on its own channel", () => {
    const broad = all.flatMap(([name, f]) =>
      f.permissions.flatMap((p) => p.actions.map((action) => `${name} ${action} ${p.on}`)),
    );
    expect(broad.sort()).toEqual(
      [
        "emailSender ses:GetAccount any",
        "emailSender ses:SendEmail any",
        "smsSender sns:Publish any",
        "pushSender sns:CreatePlatformEndpoint pushApplications",
        "pushSender sns:GetEndpointAttributes pushApplications",
        "pushSender sns:SetEndpointAttributes pushApplications",
        "pushSender sns:Publish pushApplications",
      ].sort(),
    );
  });

  it("the pepper goes only where codes are issued, sent or checked", () => {
    const peppered = all.filter(([, f]) => f.links.includes("OtpPepper")).map(([name]) => name);
    expect(peppered.sort()).toEqual(["emailSender", "http", "otp", "smsSender"].sort());
  });

  it("every handler file exists", () => {
    for (const [name, f] of all) {
      const file = f.handler.replace(/\.[^./]+$/, ".ts");
      expect(existsSync(join(root, file)), `${name}: ${file}`).toBe(true);
    }
  });
});

describe("runtime and deploy configuration", () => {
  it("Node 22 on arm64, ESM, minified with source maps", () => {
    expect(runtime).toMatchObject({
      runtime: "nodejs22.x",
      architecture: "arm64",
      nodejs: { format: "esm", minify: true, sourcemap: true },
    });
  });

  it("needs the email domain and checks what it is given", () => {
    expect(readDeployConfig({}).problems).toEqual([
      "PREGON_EMAIL_DOMAIN: the domain Pregón sends from is required",
    ]);
    const { config, problems } = readDeployConfig({ PREGON_EMAIL_DOMAIN: "Acme.example" });
    expect(problems).toEqual([]);
    expect(config.email).toEqual({
      domain: "acme.example",
      from: "Pregón <no-reply@acme.example>",
      dns: "route53",
    });
    expect(config.sms.countries).toBe(defaultSmsCountries);
    expect(config.push).toEqual({ apns: undefined, fcm: false });
    const bad = readDeployConfig({
      PREGON_EMAIL_DOMAIN: "acme.example",
      PREGON_EMAIL_FROM: "x@other.example",
      PREGON_SMS_COUNTRIES: "ES,Spain",
      PREGON_SMS_SENDER_ID: "way-too-long-id",
      PREGON_PUSH_APNS_TEAM_ID: "T",
    }).problems.map((p) => p.split(":")[0]);
    expect(bad).toEqual([
      "PREGON_EMAIL_FROM",
      "PREGON_SMS_COUNTRIES",
      "PREGON_SMS_SENDER_ID",
      "PREGON_PUSH_APNS_TEAM_ID, PREGON_PUSH_APNS_KEY_ID, PREGON_PUSH_APNS_BUNDLE_ID",
    ]);
  });

  it("splits the account's SMS rate among the sms sender's instances", () => {
    const { config } = readDeployConfig({
      PREGON_EMAIL_DOMAIN: "a.example",
      PREGON_SMS_RATE: "20",
    });
    const instances = functions.smsSender.trigger.maximumConcurrency;
    expect(smsRatePerInstance(config.sms.accountRate) * instances).toBeCloseTo(20);
  });
});
