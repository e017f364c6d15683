// The properties of the deployment that matter, checked from infra/settings.ts (plain data: the infra
// files build every resource from it) and, where a decision lives in an infra file's text, from
// that text. Each check relates two numbers or two lists, so editing one side alone fails here.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { appRouter, buildOpenApiDocument } from "@pregon/api";
import { docsScriptHeaders, docsScriptPath, scalarScriptFile } from "@pregon/api/docs";
import { Database, Sms } from "@pregon/core";
import { poolSize } from "@pregon/functions/lambda";
import { leaseMs, pipelines, strandedAfterMs } from "@pregon/pipelines";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Alarm,
  alarmsFor,
  anyResource,
  apiFailover,
  type ConcurrencyMode,
  connectionDemand,
  database,
  defaultRegion,
  defaultSmsCountries,
  docsScript,
  encryption,
  type FunctionName,
  type FunctionSetting,
  functions,
  instancesPerRoute,
  keyServiceActions,
  keyServicePrincipals,
  linksDatabase,
  logRetentionDays,
  logRetentions,
  maxInstances,
  natAlarms,
  otpRoutes,
  productionStage,
  profiles,
  proxyConnectionBudget,
  publishedTopics,
  queues,
  readDeployConfig,
  requestSecondsAssumed,
  reservedConcurrency,
  runtime,
  sesReputation,
  smsRatePerInstance,
  sweeperEvent,
  type Throttle,
  xrayActions,
} from "../infra/settings";
import { key, type Plan, type PlannedResource, planInfra } from "../scripts/plan-infra";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const all = Object.entries(functions) as [string, FunctionSetting][];
const consumers = all.filter(([, f]) => f.trigger.kind === "queue");

const reserving: ConcurrencyMode = { reservedConcurrency: true };
const notReserving: ConcurrencyMode = { reservedConcurrency: false };

describe("database connections", () => {
  for (const mode of [reserving, notReserving]) {
    const label = mode.reservedConcurrency ? "reserves concurrency" : "reserves none";
    it(`in a stage that ${label}, every function at its most instances stays under the proxy's budget`, () => {
      const budget = Math.floor(
        (database.maxConnections * database.proxyMaxConnectionsPercent) / 100,
      );
      expect(proxyConnectionBudget()).toBe(budget);
      // Counted here again, from what bounds each function, not through connectionDemand() alone.
      let demand = database.operatorConnections;
      for (const [name, setting] of all) {
        if (!linksDatabase(setting)) continue;
        const { trigger } = setting;
        let instances: number;
        if (trigger.kind === "queue") instances = trigger.maximumConcurrency;
        else if (mode.reservedConcurrency) instances = trigger.maxConcurrency;
        else if (trigger.kind === "api") {
          // Each route is throttled on its own: burst + rate x the time a request takes.
          const perRoute =
            trigger.throttle.burstLimit +
            Math.ceil(trigger.throttle.rateLimitPerSecond * requestSecondsAssumed);
          instances = trigger.routes.length * perRoute;
        } else if (trigger.kind === "cron") {
          // A run ends before the next one starts, and a failed run is not retried.
          expect(setting.timeoutSeconds, name).toBeLessThan(trigger.everyMinutes * 60);
          expect(trigger.retries, name).toBe(0);
          instances = 1;
        } else instances = 1; // the deploy invokes the migrator once
        expect(instances, `${name} must have a bounded concurrency`).toBeGreaterThan(0);
        expect(maxInstances(setting, mode), name).toBe(instances);
        demand += instances * poolSize;
      }
      expect(connectionDemand(mode)).toBe(demand);
      expect(demand).toBeLessThanOrEqual(budget);
      // What the proxy may open leaves the superuser-reserved connections free.
      expect(budget).toBeLessThanOrEqual(database.maxConnections - database.reservedConnections);
    });
  }

  it("an API function's routes at their throttles need no more instances than it reserves", () => {
    // So a stage that reserves refuses with API Gateway's 429 before Lambda would throttle (which
    // API Gateway turns into a 500).
    for (const [name, setting] of all) {
      if (setting.trigger.kind !== "api") continue;
      const { routes, throttle, maxConcurrency } = setting.trigger;
      expect(instancesPerRoute(throttle), name).toBe(
        throttle.burstLimit + Math.ceil(throttle.rateLimitPerSecond * requestSecondsAssumed),
      );
      expect(routes.length * instancesPerRoute(throttle), name).toBeLessThanOrEqual(maxConcurrency);
    }
  });

  it("the OTP routes are throttled tighter than the rest of the API", () => {
    const { http, otp } = functions;
    expect(otp.trigger.throttle.burstLimit).toBeLessThan(http.trigger.throttle.burstLimit);
    expect(otp.trigger.throttle.rateLimitPerSecond).toBeLessThan(
      http.trigger.throttle.rateLimitPerSecond,
    );
  });

  it("the pool size the Lambdas open is the one counted", () => {
    expect(poolSize).toBe(database.connectionsPerInstance);
  });

  it("queue consumers' maximum concurrency is one SQS accepts (2 to 1000)", () => {
    for (const [name, setting] of consumers) {
      const n = maxInstances(setting, notReserving);
      expect(n, name).toBeGreaterThanOrEqual(2);
      expect(n, name).toBeLessThanOrEqual(1000);
    }
  });

  it("the sweeper's run ends before the next one starts (reserved concurrency 1 drops none)", () => {
    const { trigger, timeoutSeconds } = functions.sweeper;
    expect(timeoutSeconds).toBeLessThan(trigger.everyMinutes * 60);
    expect(reservedConcurrency(functions.sweeper, reserving)).toBe(1);
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

  it("move a message to a DLQ after 5 receives (a webhook's after its 10 attempts); the DLQ keeps it longer than SQS's default 4 days", () => {
    for (const queue of queues) {
      expect(queue.dlq.maxReceiveCount, queue.queue).toBe(queue.queue === "webhooks" ? 10 : 5);
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
});

describe("alarms", () => {
  const domain = { PREGON_EMAIL_DOMAIN: "acme.example" };
  const stageAlarms = (stage: string, env: Record<string, string> = {}) => {
    const { config, problems } = readDeployConfig({ ...domain, ...env }, stage);
    expect(problems).toEqual([]);
    return alarmsFor(config);
  };
  const production = stageAlarms(productionStage);
  const named = (alarms: Alarm[], name: string) => {
    const found = alarms.filter((a) => a.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };

  it("watch every DLQ and queue, every function, the API, the database and Pregón's own outage metric, each alarm named once", () => {
    const names = production.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const queue of queues) {
      expect(named(production, `${queue.queue}-dlq-not-empty`).on).toEqual({ dlq: queue.queue });
      expect(named(production, `${queue.queue}-oldest-message`).on).toEqual({
        queue: queue.queue,
      });
    }
    for (const [name] of all) {
      expect(named(production, `${name}-errors`)).toMatchObject({
        namespace: "AWS/Lambda",
        metric: "Errors",
        on: { function: name },
      });
    }
    expect(named(production, "api-5xx-rate")).toMatchObject({
      namespace: "AWS/ApiGateway",
      metric: "5xx",
      rate: { of: "Count" },
      on: { api: true },
    });
    expect(named(production, "api-latency-p99")).toMatchObject({
      metric: "Latency",
      statistic: "p99",
      on: { api: true },
    });
    for (const metric of ["CPUUtilization", "FreeStorageSpace", "DatabaseConnections"]) {
      expect(
        production.filter((a) => a.namespace === "AWS/RDS" && a.metric === metric),
        metric,
      ).toHaveLength(1);
    }
    expect(named(production, "database-unavailable")).toMatchObject({
      namespace: "Pregon",
      metric: "DatabaseUnavailable",
      on: { app: true },
    });
  });

  it("a queue's oldest message: older than its own retries can make it, long before the queue drops it", () => {
    for (const queue of queues) {
      const alarm = named(production, `${queue.queue}-oldest-message`);
      expect(alarm).toMatchObject({
        namespace: "AWS/SQS",
        metric: "ApproximateAgeOfOldestMessage",
      });
      // A message failing on every receive reaches the DLQ after maxReceiveCount visibility
      // timeouts: that alone is not an alarm of this kind (the DLQ's is).
      expect(alarm.threshold).toBeGreaterThan(
        queue.dlq.maxReceiveCount * queue.visibilityTimeoutSeconds,
      );
      // A webhook message stays for its retry schedule (more than a day) by design.
      expect(alarm.threshold * (queue.queue === "webhooks" ? 1 : 10)).toBeLessThan(
        queue.retentionSeconds,
      );
    }
  });

  it("the API: a 5xx rate over enough requests to mean something, and a p99 well inside the timeout", () => {
    const rate = named(production, "api-5xx-rate");
    expect(rate.threshold).toBeGreaterThan(0);
    expect(rate.threshold).toBeLessThanOrEqual(5); // percent
    expect(rate.rate!.minimum).toBeGreaterThanOrEqual(10);
    const latency = named(production, "api-latency-p99");
    expect(latency.threshold).toBeLessThan(functions.http.timeoutSeconds * 1000);
    // Well above what a request takes (p99 221 ms on the local stack) and a cold start.
    expect(latency.threshold).toBeGreaterThanOrEqual(10 * requestSecondsAssumed * 221);
    expect(latency.evaluationPeriods).toBeGreaterThan(1);
  });

  it("the database: connections above what every function may open, below what the proxy may; storage at a tenth of the profile's", () => {
    const connections = production.find((a) => a.metric === "DatabaseConnections")!;
    for (const mode of [reserving, notReserving]) {
      expect(connections.threshold).toBeGreaterThanOrEqual(connectionDemand(mode));
    }
    expect(connections.threshold).toBeLessThan(proxyConnectionBudget());
    for (const [stage, profile] of [
      [productionStage, profiles.production],
      ["dev", profiles.dev],
    ] as const) {
      const storage = stageAlarms(stage).find((a) => a.metric === "FreeStorageSpace")!;
      expect(storage.comparison, stage).toBe("LessThanThreshold");
      expect(storage.threshold, stage).toBe(profile.database.storageGb * 1024 ** 3 * 0.1);
    }
    const cpu = production.find((a) => a.metric === "CPUUtilization")!;
    expect(cpu.threshold).toBeLessThanOrEqual(80);
  });

  it("SES bounce and complaint rates: below where SES reviews the account, far below where it pauses; in the identity's stage only", () => {
    const bounce = named(production, "ses-bounce-rate");
    const complaint = named(production, "ses-complaint-rate");
    expect([bounce, complaint].map((a) => [a.namespace, a.metric, a.on])).toEqual([
      ["AWS/SES", "Reputation.BounceRate", { account: "ses" }],
      ["AWS/SES", "Reputation.ComplaintRate", { account: "ses" }],
    ]);
    // SES's own numbers (fractions): under review at 5 % / 0.1 %, sending paused at 10 % / 0.5 %.
    expect(sesReputation).toEqual({
      review: { bounce: 0.05, complaint: 0.001 },
      pause: { bounce: 0.1, complaint: 0.005 },
    });
    expect(bounce.threshold).toBeLessThan(sesReputation.review.bounce);
    expect(complaint.threshold).toBeLessThan(sesReputation.review.complaint);
    expect(bounce.threshold).toBeLessThanOrEqual(sesReputation.pause.bounce / 2);
    expect(complaint.threshold).toBeLessThanOrEqual(sesReputation.pause.complaint / 2);
    // Account-wide: one stage watches them, the one that owns the identity.
    for (const stage of ["dev", "staging"]) {
      expect(
        stageAlarms(stage).filter((a) => a.namespace === "AWS/SES"),
        stage,
      ).toEqual([]);
    }
    const staging = stageAlarms("staging", { PREGON_EMAIL_IDENTITY_STAGE: "staging" });
    expect(staging.filter((a) => a.namespace === "AWS/SES")).toHaveLength(2);
  });

  it("SMS spend: the month-to-date spend against the configured limit, where the limit is configured", () => {
    expect(production.filter((a) => a.namespace === "AWS/SNS")).toEqual([]);
    const env = {
      PREGON_SMS_PREFERENCES_STAGE: productionStage,
      PREGON_SMS_MONTHLY_SPEND_LIMIT: "50",
    };
    const spend = named(stageAlarms(productionStage, env), "sms-spend");
    expect(spend).toMatchObject({
      namespace: "AWS/SNS",
      metric: "SMSMonthToDateSpentUSD",
      comparison: "GreaterThanOrEqualToThreshold",
      on: { account: "sms" },
    });
    expect(spend.threshold).toBe(50 * 0.8);
    expect(stageAlarms("dev", env).filter((a) => a.namespace === "AWS/SNS")).toEqual([]);
  });

  it("docs/operations.md says what to do when each fires", () => {
    const doc = readFileSync(join(root, "docs", "operations.md"), "utf8");
    const section = doc.split("\n## Alarms")[1]!.split("\n## ")[0]!;
    const everyAlarm = alarmsFor(
      readDeployConfig(
        {
          ...domain,
          PREGON_SMS_PREFERENCES_STAGE: productionStage,
          PREGON_SMS_MONTHLY_SPEND_LIMIT: "50",
        },
        productionStage,
      ).config,
    );
    const documented = new Set(
      [...section.matchAll(/^\| `([a-z0-9<>-]+)`\s*\|/gm)].map((match) => match[1]!),
    );
    const expected = new Set([...everyAlarm.map((a) => a.family), "nat-instance-<n>-<check>"]);
    expect([...documented].sort()).toEqual([...expected].sort());
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

  it("every bucket of data has an SSE-KMS configuration; the API reference's script, public, S3's own key", () => {
    const every = constructions("sst.aws.Bucket");
    const configs = constructions("aws.s3.BucketServerSideEncryptionConfiguration");
    // CloudFront could read an SSE-KMS object only if the data key's policy admitted it.
    const buckets = every.filter(({ file }) => file !== "docs.ts");
    expect(every.length - buckets.length).toBe(1);
    expect(configs.filter(({ file }) => file === "docs.ts")).toEqual([]);
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

describe("the OTP function", () => {
  const otp = functions.otp;

  it("has its own concurrency and no templates bucket, SES or SNS beyond its topics", () => {
    expect(reservedConcurrency(otp, reserving)).toBeGreaterThan(0);
    expect(otp.links).not.toContain("Templates");
    expect(otp.permissions).toEqual([{ actions: ["sns:Publish"], on: "publishedTopics" }]);
    expect([...otp.links].sort()).toEqual(["AppDatabase", "OtpPepper", ...publishedTopics].sort());
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

describe("the API reference's script", () => {
  it("is the file the local server serves, at the path /docs loads, served as the local server serves it", () => {
    expect(join(root, docsScript.file)).toBe(scalarScriptFile());
    expect(`/${docsScript.key}`).toBe(docsScriptPath);
    expect([docsScript.contentType, docsScript.cacheControl]).toEqual([
      docsScriptHeaders["content-type"],
      docsScriptHeaders["cache-control"],
    ]);
  });

  it("reaches the http function, the one serving /docs, as the distribution's origin alone", () => {
    const told = all.filter(([, f]) => f.environment.includes("PREGON_DOCS_ORIGIN"));
    expect(told.map(([name]) => name)).toEqual(["http"]);
    // No function serves it, so no zip carries it.
    expect(all.filter(([, f]) => f.copyFiles?.some((c) => c.from.includes("@scalar")))).toEqual([]);
  });
});

describe("least privilege", () => {
  it("only the senders may send, each on its own channel; only http writes templates", () => {
    const beyondTopics = all.flatMap(([name, f]) =>
      f.permissions
        .filter((p) => p.on !== "publishedTopics")
        .flatMap((p) => p.actions.map((action) => `${name} ${action} ${p.on}`)),
    );
    expect(beyondTopics.sort()).toEqual(
      [
        "http s3:GetObject templates",
        "http s3:PutObject templates",
        "emailSender s3:GetObject templates",
        "emailSender ses:SendEmail emailIdentity",
        "emailSender ses:GetAccount account",
        "smsSender s3:GetObject templates",
        "smsSender sns:Publish phoneNumbers",
        "pushSender sns:CreatePlatformEndpoint pushApplications",
        "pushSender sns:GetEndpointAttributes pushApplications",
        "pushSender sns:SetEndpointAttributes pushApplications",
        "pushSender sns:Publish pushApplications",
        "webhooks sqs:ChangeMessageVisibility webhooksQueue",
      ].sort(),
    );
  });

  it("names every action, and resolves to `*` only where AWS has no resource to name", () => {
    for (const [name, f] of all) {
      for (const action of f.permissions.flatMap((p) => p.actions)) {
        expect(action, name).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
      }
    }
    const anywhere = all.flatMap(([name, f]) =>
      f.permissions.filter((p) => p.on in anyResource).map((p) => `${name} ${p.actions.join()}`),
    );
    expect(anywhere.sort()).toEqual(["emailSender ses:GetAccount", "smsSender sns:Publish"]);
  });

  it("links a topic or the bucket only with a permission on it, and the reverse", () => {
    for (const [name, f] of all) {
      const publishes = f.permissions.some((p) => p.on === "publishedTopics");
      expect(publishes, name).toBe(publishedTopics.every((topic) => f.links.includes(topic)));
      const templates = f.permissions.some((p) => p.on === "templates");
      expect(templates, name).toBe(f.links.includes("Templates"));
    }
  });

  it("connects every function as the application role; only the Migrator links the owner", () => {
    for (const [name, f] of all) {
      expect(f.links, name).toContain("AppDatabase");
      expect(f.links.includes("Database"), name).toBe(name === "migrator");
    }
  });

  it("the pepper goes only where codes are issued, sent or checked", () => {
    const peppered = all.filter(([, f]) => f.links.includes("OtpPepper")).map(([name]) => name);
    // The webhook sender derives the key of the endpoints' secrets from it.
    expect(peppered.sort()).toEqual(["emailSender", "http", "otp", "smsSender", "webhooks"].sort());
  });

  it("every handler file exists", () => {
    for (const [name, f] of all) {
      const file = f.handler.replace(/\.[^./]+$/, ".ts");
      expect(existsSync(join(root, file)), `${name}: ${file}`).toBe(true);
    }
  });
});

describe("runtime and deploy configuration", () => {
  it("Node 22 on arm64, ESM, minified, split; no `sourcemap` key, so SST keeps the map out of the zip", () => {
    expect(runtime).toMatchObject({
      runtime: "nodejs22.x",
      architecture: "arm64",
      nodejs: { format: "esm", minify: true, splitting: true },
    });
    expect("sourcemap" in runtime.nodejs).toBe(false);
    // No esbuild options of ours: no target (SST's for the runtime) and nothing external.
    expect("esbuild" in runtime.nodejs).toBe(false);
  });

  it("needs the email domain and checks what it is given", () => {
    expect(readDeployConfig({}, "dev").problems).toEqual([
      "PREGON_EMAIL_DOMAIN: the domain Pregón sends from is required",
    ]);
    const { config, problems } = readDeployConfig({ PREGON_EMAIL_DOMAIN: "Acme.example" }, "dev");
    expect(problems).toEqual([]);
    expect(config.email).toMatchObject({
      domain: "acme.example",
      from: "Pregón <no-reply@acme.example>",
      dns: "route53",
    });
    expect(config.sms.countries).toBe(defaultSmsCountries);
    expect(config.push).toEqual({ apns: undefined, fcm: false });
    const bad = readDeployConfig(
      {
        PREGON_EMAIL_DOMAIN: "acme.example",
        PREGON_EMAIL_FROM: "x@other.example",
        PREGON_EMAIL_IDENTITY_STAGE: "no stage",
        PREGON_EMAIL_DMARC: "p=none",
        PREGON_SMS_COUNTRIES: "ES,Spain",
        PREGON_SMS_SENDER_ID: "way-too-long-id",
        PREGON_SMS_MONTHLY_SPEND_LIMIT: "50",
        PREGON_PUSH_APNS_TEAM_ID: "T",
        PREGON_RESERVED_CONCURRENCY: "yes",
      },
      "dev",
    ).problems.map((p) => p.split(":")[0]);
    expect(bad).toEqual([
      "PREGON_EMAIL_FROM",
      "PREGON_EMAIL_IDENTITY_STAGE",
      "PREGON_EMAIL_DMARC",
      "PREGON_SMS_COUNTRIES",
      "PREGON_SMS_SENDER_ID",
      // Set, but no stage is named to set the account's SMS preferences with it.
      "PREGON_SMS_MONTHLY_SPEND_LIMIT",
      "PREGON_PUSH_APNS_TEAM_ID, PREGON_PUSH_APNS_KEY_ID, PREGON_PUSH_APNS_BUNDLE_ID",
      "PREGON_RESERVED_CONCURRENCY",
    ]);
  });

  it("takes the origination number the functions take at start: E.164 and valid", () => {
    const problems = (number: string) =>
      readDeployConfig(
        { PREGON_EMAIL_DOMAIN: "acme.example", PREGON_SMS_ORIGINATION_NUMBER: number },
        "dev",
      ).problems;
    expect(problems("+34600111222")).toEqual([]);
    // E.164 in form, but no country's number: the functions' configuration (Sms.Phone) refuses it.
    for (const number of ["+10000000000", "+999123456789"]) {
      expect(problems(number)).toEqual([
        "PREGON_SMS_ORIGINATION_NUMBER: a valid phone number in E.164 form (+34600111222)",
      ]);
    }
    expect(defaultSmsCountries).toBe(Sms.defaultCountries.join(","));
  });

  it("splits the account's SMS rate among the sms sender's instances", () => {
    const { config } = readDeployConfig(
      { PREGON_EMAIL_DOMAIN: "a.example", PREGON_SMS_RATE: "20" },
      "dev",
    );
    const instances = functions.smsSender.trigger.maximumConcurrency;
    expect(smsRatePerInstance(config.sms.accountRate) * instances).toBeCloseTo(20);
  });
});

// What one stage owns for the whole account or domain, and what the defaults of a first deploy on
// a fresh account are: from the configuration alone.
describe("stage defaults", () => {
  const domain = { PREGON_EMAIL_DOMAIN: "acme.example" };
  const stages = [productionStage, "dev", "alice", "staging"];

  it("the SES identity: production owns it, every other stage references it; any one stage can own it", () => {
    for (const stage of stages) {
      const { email } = readDeployConfig(domain, stage).config;
      expect(email.ownsIdentity, stage).toBe(stage === productionStage);
      expect(email.identityStage, stage).toBe(productionStage);
    }
    for (const stage of stages) {
      const { email } = readDeployConfig(
        { ...domain, PREGON_EMAIL_IDENTITY_STAGE: "staging" },
        stage,
      ).config;
      expect(email.ownsIdentity, stage).toBe(stage === "staging");
    }
  });

  it("DMARC: none unless asked, then only by the owning stage and only where SST writes DNS", () => {
    for (const stage of stages) {
      expect(readDeployConfig(domain, stage).config.email.dmarc, stage).toBeUndefined();
    }
    const asked = { ...domain, PREGON_EMAIL_DMARC: "v=DMARC1; p=none;" };
    expect(readDeployConfig(asked, productionStage).config.email.dmarc).toBe("v=DMARC1; p=none;");
    expect(readDeployConfig(asked, "dev").config.email.dmarc).toBeUndefined();
    expect(
      readDeployConfig({ ...asked, PREGON_EMAIL_DNS: "manual" }, productionStage).problems,
    ).toEqual(["PREGON_EMAIL_DMARC: only with PREGON_EMAIL_DNS=route53 (else add it yourself)"]);
  });

  it("SMS preferences: set by no stage unless one is named, then by that one, with an explicit spend limit", () => {
    for (const stage of stages) {
      expect(readDeployConfig(domain, stage).config.sms.preferences, stage).toBeUndefined();
    }
    const named = { ...domain, PREGON_SMS_PREFERENCES_STAGE: productionStage };
    expect(readDeployConfig(named, productionStage).problems).toEqual([
      "PREGON_SMS_MONTHLY_SPEND_LIMIT: required in the stage that sets the account's SMS preferences (USD a month)",
    ]);
    const limited = { ...named, PREGON_SMS_MONTHLY_SPEND_LIMIT: "50" };
    for (const stage of stages) {
      const { config, problems } = readDeployConfig(limited, stage);
      expect(problems, stage).toEqual([]);
      expect(config.sms.preferences, stage).toEqual(
        stage === productionStage
          ? { monthlySpendLimit: 50, deliveryStatusLogs: false }
          : undefined,
      );
    }
  });

  it("profiles: production's in the production stage, dev's elsewhere; PREGON_PROFILE picks one for any stage", () => {
    for (const stage of stages) {
      const { config } = readDeployConfig(domain, stage);
      const name = stage === productionStage ? "production" : "dev";
      const profile = profiles[name];
      expect(config.profile, stage).toBe(name);
      expect(config.database, stage).toEqual(profile.database);
      expect(config.nat, stage).toBe(profile.nat);
      expect(config.concurrency.reservedConcurrency, stage).toBe(profile.reservedConcurrency);
      expect(config.logRetention, stage).toBe(profile.logRetention);
      expect(config.tracing, stage).toBe(false);
    }
    const staging = readDeployConfig({ ...domain, PREGON_PROFILE: "production" }, "staging");
    expect(staging.problems).toEqual([]);
    expect(staging.config.database).toEqual(profiles.production.database);
    expect(staging.config.nat).toBe("managed");
    expect(readDeployConfig({ ...domain, PREGON_PROFILE: "prod" }, "dev").problems).toEqual([
      'PREGON_PROFILE: "production" or "dev"',
    ]);
  });

  it("the profiles: production survives an AZ and a mistake, on a larger instance; dev costs little", () => {
    expect(profiles.production).toMatchObject({
      database: {
        instance: "t4g.small",
        multiAz: true,
        finalSnapshot: true,
        deletionProtection: true,
      },
      nat: "managed",
      reservedConcurrency: true,
    });
    expect(profiles.dev).toMatchObject({
      database: {
        instance: "t4g.micro",
        multiAz: false,
        finalSnapshot: false,
        deletionProtection: false,
      },
      nat: "ec2",
      reservedConcurrency: false,
    });
    // Both instances have the memory for the max_connections the budget counts (1 and 2 GiB).
    for (const profile of Object.values(profiles)) {
      expect(["t4g.micro", "t4g.small"]).toContain(profile.database.instance);
      expect(profile.database.storageGb).toBeGreaterThanOrEqual(20);
      expect(logRetentions).toContain(profile.logRetention);
    }
    // Logs are kept longer where they are evidence.
    expect(logRetentionDays[profiles.production.logRetention]).toBeGreaterThan(
      logRetentionDays[profiles.dev.logRetention],
    );
  });

  it("NAT, log retention and tracing: each overridable, each checked", () => {
    const ec2 = readDeployConfig({ ...domain, PREGON_NAT: "ec2" }, productionStage);
    expect(ec2.config.nat).toBe("ec2");
    expect(readDeployConfig({ ...domain, PREGON_NAT: "gateway" }, "dev").problems).toEqual([
      'PREGON_NAT: "managed" (a NAT gateway per AZ) or "ec2" (an fck-nat instance per AZ)',
    ]);
    const kept = readDeployConfig({ ...domain, PREGON_LOG_RETENTION: "1 year" }, "dev");
    expect(kept.config.logRetention).toBe("1 year");
    expect(readDeployConfig({ ...domain, PREGON_LOG_RETENTION: "90" }, "dev").problems).toEqual([
      `PREGON_LOG_RETENTION: one of ${logRetentions.join(", ")}`,
    ]);
    expect(readDeployConfig({ ...domain, PREGON_TRACING: "true" }, "dev").config.tracing).toBe(
      true,
    );
    expect(readDeployConfig({ ...domain, PREGON_TRACING: "on" }, "dev").problems).toEqual([
      'PREGON_TRACING: "true" or "false"',
    ]);
  });

  it("the API's custom domain: none unless named; a domain name; its certificate an ACM ARN when DNS is elsewhere", () => {
    for (const stage of stages) {
      expect(readDeployConfig(domain, stage).config.apiDomain, stage).toBeUndefined();
    }
    expect(
      readDeployConfig({ ...domain, PREGON_API_DOMAIN: "API.acme.example" }, "dev").config
        .apiDomain,
    ).toEqual({ name: "api.acme.example", cert: undefined });
    const cert = "arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c";
    expect(
      readDeployConfig(
        { ...domain, PREGON_API_DOMAIN: "api.acme.example", PREGON_API_DOMAIN_CERT: cert },
        "dev",
      ).config.apiDomain,
    ).toEqual({ name: "api.acme.example", cert });
    expect(
      readDeployConfig({ ...domain, PREGON_API_DOMAIN: "https://api.acme.example" }, "dev")
        .problems,
    ).toEqual(["PREGON_API_DOMAIN: must be a domain name (api.example.com)"]);
    expect(readDeployConfig({ ...domain, PREGON_API_DOMAIN_CERT: cert }, "dev").problems).toEqual([
      "PREGON_API_DOMAIN_CERT: only with PREGON_API_DOMAIN",
    ]);
    expect(
      readDeployConfig(
        { ...domain, PREGON_API_DOMAIN: "api.acme.example", PREGON_API_DOMAIN_CERT: "cert" },
        "dev",
      ).problems,
    ).toEqual(["PREGON_API_DOMAIN_CERT: an ACM certificate ARN (arn:aws:acm:…)"]);
  });

  it("docs/deploy.md lists every variable the configuration reads, and no other", () => {
    const source = readFileSync(join(root, "infra", "settings.ts"), "utf8");
    const parser = source
      .split("export function readDeployConfig")[1]!
      .split("export type DeployConfig")[0]!;
    const read = new Set([...parser.matchAll(/"(PREGON_[A-Z_]+)"/g)].map((m) => m[1]!));
    const doc = readFileSync(join(root, "docs", "deploy.md"), "utf8");
    const table = doc.split("\n## Configuration")[1]!.split("\n## ")[0]!;
    const documented = new Set(
      table
        .split("\n")
        .filter((line) => line.startsWith("| `PREGON_"))
        .flatMap((line) =>
          [...line.split("|")[1]!.matchAll(/`(PREGON_[A-Z_]+)`/g)].map((m) => m[1]!),
        ),
    );
    expect([...documented].sort()).toEqual([...read].sort());
  });

  it("SST loads .env.<stage>; every .env file is ignored by git", () => {
    for (const file of [".env", ".env.production", ".env.dev", ".env.local"]) {
      const ignored = spawnSync("git", ["check-ignore", "-q", file], { cwd: root });
      expect(ignored.status, file).toBe(0);
    }
  });

  it("CORS: no origin unless configured; each configured one must be an origin", () => {
    for (const stage of stages) {
      expect(readDeployConfig(domain, stage).config.corsOrigins, stage).toEqual([]);
    }
    const origins = "https://console.acme.example, http://localhost:5173";
    expect(
      readDeployConfig({ ...domain, PREGON_CORS_ORIGINS: origins }, "dev").config.corsOrigins,
    ).toEqual(["https://console.acme.example", "http://localhost:5173"]);
    for (const bad of ["*", "console.acme.example", "https://acme.example/path"]) {
      expect(
        readDeployConfig({ ...domain, PREGON_CORS_ORIGINS: bad }, "dev").problems,
        bad,
      ).toEqual([`PREGON_CORS_ORIGINS: "${bad}" is not an origin (https://console.acme.example)`]);
    }
  });

  it("the region: us-east-1 unless PREGON_REGION names another; a passive stage replicates a primary in another region; failover only with a Route 53 API domain", () => {
    const read = (env: Record<string, string>, stage = "dev") =>
      readDeployConfig({ PREGON_EMAIL_DOMAIN: "acme.example", ...env }, stage);
    const problems = (env: Record<string, string>) =>
      read(env).problems.map((p) => p.split(":")[0]);
    expect(defaultRegion).toBe("us-east-1");
    expect(read({}).config).toMatchObject({ region: "us-east-1", passive: undefined });
    expect(read({ PREGON_REGION: "eu-west-1" }).config.region).toBe("eu-west-1");
    expect(problems({ PREGON_REGION: "Europe" })).toEqual(["PREGON_REGION"]);

    const primary = "arn:aws:rds:us-east-1:111111111111:db:pregon-production-database";
    expect(read({ PREGON_REGION: "eu-west-1", PREGON_REPLICA_OF: primary }).config.passive).toEqual(
      { replicaOf: primary },
    );
    // A replica in its primary's own region is no second region; a name is not an ARN.
    expect(problems({ PREGON_REPLICA_OF: primary })).toEqual(["PREGON_REPLICA_OF"]);
    expect(problems({ PREGON_REGION: "eu-west-1", PREGON_REPLICA_OF: "pregon-db" })).toEqual([
      "PREGON_REPLICA_OF",
    ]);

    // The primary replicates its templates to the passive stage's bucket, under that stage's key.
    const bucket = "arn:aws:s3:::pregon-production-eu-templatesbucket-abc123";
    const replicaKey =
      "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const replica = {
      PREGON_TEMPLATES_REPLICA_BUCKET: bucket,
      PREGON_TEMPLATES_REPLICA_KEY: replicaKey,
    };
    expect(read({}).config.templatesReplica).toBeUndefined();
    expect(read(replica)).toMatchObject({
      problems: [],
      config: { templatesReplica: { bucketArn: bucket, keyArn: replicaKey, region: "eu-west-1" } },
    });
    expect(problems({ PREGON_TEMPLATES_REPLICA_BUCKET: bucket })).toEqual([
      "PREGON_TEMPLATES_REPLICA_BUCKET, PREGON_TEMPLATES_REPLICA_KEY",
    ]);
    expect(problems({ PREGON_TEMPLATES_REPLICA_KEY: replicaKey })).toEqual([
      "PREGON_TEMPLATES_REPLICA_BUCKET, PREGON_TEMPLATES_REPLICA_KEY",
    ]);
    // A name is not an ARN, an alias is not a key, the key must be in another region.
    expect(problems({ ...replica, PREGON_TEMPLATES_REPLICA_BUCKET: "pregon-templates" })).toEqual([
      "PREGON_TEMPLATES_REPLICA_BUCKET",
    ]);
    expect(
      problems({
        ...replica,
        PREGON_TEMPLATES_REPLICA_KEY: "arn:aws:kms:eu-west-1:111111111111:alias/pregon-data",
      }),
    ).toEqual(["PREGON_TEMPLATES_REPLICA_KEY"]);
    expect(problems({ ...replica, PREGON_REGION: "eu-west-1" })).toEqual([
      "PREGON_TEMPLATES_REPLICA_KEY",
    ]);
    // A passive stage receives the replicas; it does not send its own.
    const passive = { PREGON_REGION: "us-west-2", PREGON_REPLICA_OF: primary };
    expect(problems({ ...passive, ...replica })).toEqual(["PREGON_TEMPLATES_REPLICA_BUCKET"]);
    expect(read({ ...passive, ...replica }).config.templatesReplica).toBeUndefined();

    const domain = { PREGON_API_DOMAIN: "api.acme.example" };
    for (const role of apiFailover.roles) {
      expect(read({ ...domain, PREGON_API_FAILOVER: role }).config.apiDomain?.failover).toBe(role);
    }
    expect(read(domain).config.apiDomain?.failover).toBeUndefined();
    expect(problems({ ...domain, PREGON_API_FAILOVER: "tertiary" })).toEqual([
      "PREGON_API_FAILOVER",
    ]);
    expect(problems({ PREGON_API_FAILOVER: "primary" })).toEqual(["PREGON_API_FAILOVER"]);
    expect(
      problems({
        ...domain,
        PREGON_API_DOMAIN_CERT: "arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c",
        PREGON_API_FAILOVER: "primary",
      }),
    ).toEqual(["PREGON_API_FAILOVER"]);
  });

  it("reserved concurrency: production only, unless a stage says otherwise", () => {
    for (const stage of stages) {
      const { concurrency } = readDeployConfig(domain, stage).config;
      expect(concurrency.reservedConcurrency, stage).toBe(stage === productionStage);
      for (const [name, setting] of all) {
        const reserved = reservedConcurrency(setting, concurrency);
        if (stage !== productionStage || setting.trigger.kind === "queue") {
          expect(reserved, `${stage} ${name}`).toBeUndefined();
        } else expect(reserved, `${stage} ${name}`).toBe(setting.trigger.maxConcurrency);
      }
    }
    const on = { ...domain, PREGON_RESERVED_CONCURRENCY: "true" };
    expect(readDeployConfig(on, "dev").config.concurrency.reservedConcurrency).toBe(true);
    const off = { ...domain, PREGON_RESERVED_CONCURRENCY: "false" };
    expect(readDeployConfig(off, productionStage).config.concurrency.reservedConcurrency).toBe(
      false,
    );
  });
});

// What a deploy declares: sst.config.ts run offline for a stage, as `sst deploy` runs it, with
// SST's own components and every AWS call answered by Pulumi's mocks (scripts/plan-infra.ts). The
// inputs below are what SST would send to AWS.
describe("what a deploy declares", () => {
  const domain = { PREGON_EMAIL_DOMAIN: "acme.example" };
  const apiCert = "arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c";
  const primaryDatabase = "arn:aws:rds:us-east-1:111111111111:db:pregon-production-database";
  /** The passive stage's templates bucket and data key, as its deploy outputs them. */
  const replicaBucket = "arn:aws:s3:::pregon-production-eu-templatesbucket-abc123";
  const replicaKey = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const runs: Record<string, [string, Record<string, string>, { dev?: boolean }?]> = {
    /** A first deploy of production with nothing but the domain. */
    production: [productionStage, domain],
    /** A developer's stage, deployed, with the same environment. */
    dev: ["dev", domain],
    /** The same stage under `sst dev`. */
    live: ["dev", domain, { dev: true }],
    /**
     * Production asked for DMARC, to set the account's SMS preferences, CORS for a console,
     * tracing and a domain for the API; the primary of a failover pair, replicating its templates.
     */
    asked: [
      productionStage,
      {
        ...domain,
        PREGON_TRACING: "true",
        PREGON_API_DOMAIN: "api.acme.example",
        PREGON_CORS_ORIGINS: "https://console.acme.example, http://localhost:5173",
        PREGON_EMAIL_DMARC: "v=DMARC1; p=none;",
        PREGON_SMS_PREFERENCES_STAGE: productionStage,
        PREGON_SMS_MONTHLY_SPEND_LIMIT: "50",
        PREGON_SMS_DELIVERY_STATUS_LOGS: "true",
        PREGON_SMS_SENDER_ID: "Acme",
        PREGON_API_FAILOVER: "primary",
        PREGON_TEMPLATES_REPLICA_BUCKET: replicaBucket,
        PREGON_TEMPLATES_REPLICA_KEY: replicaKey,
      },
    ],
    /**
     * Production's passive twin in another region: its database a replica of production's, its
     * own SES identity there, the API's domain failing over to it.
     */
    passive: [
      "production-eu",
      {
        ...domain,
        PREGON_PROFILE: "production",
        PREGON_REGION: "eu-west-1",
        PREGON_REPLICA_OF: primaryDatabase,
        PREGON_EMAIL_IDENTITY_STAGE: "production-eu",
        PREGON_API_DOMAIN: "api.acme.example",
        PREGON_API_FAILOVER: "secondary",
      },
    ],
    /** staging owns the identity and its DNS is not in Route 53. */
    manual: [
      "staging",
      {
        ...domain,
        PREGON_EMAIL_IDENTITY_STAGE: "staging",
        PREGON_EMAIL_DNS: "manual",
        PREGON_SMS_PREFERENCES_STAGE: productionStage,
        PREGON_SMS_MONTHLY_SPEND_LIMIT: "50",
        PREGON_API_DOMAIN: "api.acme.example",
        PREGON_API_DOMAIN_CERT: apiCert,
      },
    ],
  };
  const plans: Record<string, Plan> = {};

  beforeAll(async () => {
    const names = Object.keys(runs);
    // Two at a time: each plan is a Node process running the whole program.
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(
        names.slice(i, i + 2).map(async (name) => {
          const [stage, env, options] = runs[name]!;
          plans[name] = await planInfra(stage, env, options);
        }),
      );
    }
  }, 300_000);

  const created = (plan: Plan, type: string) =>
    plan.resources.filter((r) => r.type === type && r.readId === undefined);
  const one = (plan: Plan, type: string, name: string) => {
    const found = plan.resources.filter((r) => r.type === type && r.name === name);
    expect(found, `${type} ${name}`).toHaveLength(1);
    return found[0]!;
  };
  const lambdas = (plan: Plan) => created(plan, "aws:lambda/function:Function");
  const env = (fn: PlannedResource) =>
    ((fn.inputs.environment as { variables?: Record<string, string> })?.variables ?? {}) as Record<
      string,
      string
    >;
  const identityType = "aws:sesv2/emailIdentity:EmailIdentity";
  const recordType = "aws:route53/record:Record";
  const verificationType = "aws:ses/domainIdentityVerification:DomainIdentityVerification";

  describe("the SES identity", () => {
    it("the owning stage creates it once, with its DKIM records in Route 53, and waits on them", () => {
      const plan = plans.production!;
      const [identity, ...more] = created(plan, identityType);
      expect(more).toEqual([]);
      expect(identity!.inputs).toMatchObject({
        emailIdentity: "acme.example",
        configurationSetName: "pregon-production-email",
        dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" },
      });
      const records = created(plan, recordType);
      expect(records.map((r) => [r.inputs.type, r.inputs.name, r.inputs.records])).toEqual(
        [1, 2, 3].map((i) => [
          "CNAME",
          `dkimtoken${i}._domainkey.acme.example`,
          [`dkimtoken${i}.dkim.amazonses.com`],
        ]),
      );
      const [verification] = created(plan, verificationType);
      expect(verification!.dependsOn).toEqual(expect.arrayContaining(records.map(key)));
    });

    it("writes no DMARC record unless asked, and then only the one asked for", () => {
      const dmarc = (plan: Plan) =>
        created(plan, recordType).filter((r) => r.inputs.name === "_dmarc.acme.example");
      expect(dmarc(plans.production!)).toEqual([]);
      const [asked, ...more] = dmarc(plans.asked!);
      expect(more).toEqual([]);
      expect(asked!.inputs).toMatchObject({ type: "TXT", records: ["v=DMARC1; p=none;"] });
      // Never over an existing record: a domain's own DMARC policy stays its own.
      expect(asked!.inputs.allowOverwrite).not.toBe(true);
    });

    it("another stage references it: no identity, record or wait of its own", () => {
      const plan = plans.dev!;
      expect(created(plan, identityType)).toEqual([]);
      expect(created(plan, recordType)).toEqual([]);
      expect(created(plan, verificationType)).toEqual([]);
      const read = plan.resources.filter((r) => r.type === identityType);
      expect(read.map((r) => r.readId)).toEqual(["acme.example"]);
    });

    it("every stage sends with its own configuration set, whose events reach its own feedback topic", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const set = `pregon-${plan.stage}-email`;
        const [configurationSet] = created(plan, "aws:sesv2/configurationSet:ConfigurationSet");
        expect(configurationSet!.inputs.configurationSetName, name).toBe(set);
        const [destination] = created(
          plan,
          "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination",
        );
        const feedback = one(plan, "aws:sns/topic:Topic", "FeedbackTopicTopic");
        expect(destination!.inputs, name).toMatchObject({
          configurationSetName: set,
          eventDestination: { snsDestination: { topicArn: feedback.attributes.arn } },
        });
        const senders = lambdas(plan).filter((fn) => env(fn).PREGON_SES_CONFIGURATION_SET);
        expect(
          senders.map((fn) => env(fn).PREGON_SES_CONFIGURATION_SET),
          name,
        ).toEqual([set]);
      }
    });

    it("with manual DNS the owning stage writes no record and does not wait; the deploy gives the DKIM tokens", () => {
      const plan = plans.manual!;
      expect(created(plan, identityType).map((r) => r.inputs.emailIdentity)).toEqual([
        "acme.example",
      ]);
      expect(created(plan, recordType)).toEqual([]);
      expect(created(plan, verificationType)).toEqual([]);
      expect(plan.outputs.dkimTokens).toEqual(["dkimtoken1", "dkimtoken2", "dkimtoken3"]);
      expect(plans.dev!.outputs.dkimTokens).toBeUndefined();
    });
  });

  describe("SNS SMS preferences", () => {
    const preferencesType = "aws:sns/smsPreferences:SmsPreferences";

    it("no stage sets them unless named: not production, not dev, not a stage that is not named", () => {
      for (const name of ["production", "dev", "manual"]) {
        expect(created(plans[name]!, preferencesType), name).toEqual([]);
      }
    });

    it("the named stage sets them with its spend limit, and its remove leaves them (and their role) alone", () => {
      const plan = plans.asked!;
      const [preferences, ...more] = created(plan, preferencesType);
      expect(more).toEqual([]);
      const role = one(plan, "aws:iam/role:Role", "SmsDeliveryStatusRole");
      expect(preferences!.inputs).toEqual({
        defaultSmsType: "Transactional",
        monthlySpendLimit: 50,
        defaultSenderId: "Acme",
        deliveryStatusIamRoleArn: role.attributes.arn,
        deliveryStatusSuccessSamplingRate: "100",
      });
      expect(preferences!.retainOnDelete).toBe(true);
      expect(role.retainOnDelete).toBe(true);
    });
  });

  describe("concurrency", () => {
    const reservedOf = (plan: Plan) =>
      Object.fromEntries(
        lambdas(plan)
          .filter((fn) => fn.inputs.reservedConcurrentExecutions !== undefined)
          .map((fn) => [fn.name, fn.inputs.reservedConcurrentExecutions]),
      );
    const stage = (plan: Plan) => one(plan, "aws:apigatewayv2/stage:Stage", "ApiStage");

    it("production reserves each API, cron and deploy function's maxConcurrency", () => {
      expect(reservedOf(plans.production!)).toEqual({
        HttpFunction: functions.http.trigger.maxConcurrency,
        OtpFunction: functions.otp.trigger.maxConcurrency,
        SweeperHandlerFunction: functions.sweeper.trigger.maxConcurrency,
        MigratorFunction: functions.migrator.trigger.maxConcurrency,
      });
    });

    it("dev reserves nothing (a new account's quota of 10 has nothing to reserve)", () => {
      expect(reservedOf(plans.dev!)).toEqual({});
    });

    it("keeps request paths out of the API's access log: an unsubscribe link's path holds its token", () => {
      for (const name of ["production", "dev"]) {
        const { accessLogSettings } = stage(plans[name]!).inputs as {
          accessLogSettings: { destinationArn: unknown; format: string };
        };
        const format = JSON.parse(accessLogSettings.format);
        expect(accessLogSettings.format, name).not.toContain("$context.path");
        expect(format, name).toMatchObject({
          routeKey: '"$context.routeKey"',
          status: "$context.status",
        });
        expect(accessLogSettings.destinationArn, name).toBeDefined();
      }
    });

    it("every stage throttles every route: http's by default, each OTP route tighter, on as many routes as counted", () => {
      const { http, otp } = functions;
      const settings = (throttle: Throttle) => ({
        throttlingBurstLimit: throttle.burstLimit,
        throttlingRateLimit: throttle.rateLimitPerSecond,
      });
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const inputs = stage(plan).inputs;
        expect(inputs.defaultRouteSettings, name).toEqual(settings(http.trigger.throttle));
        expect(inputs.routeSettings, name).toEqual(
          otp.trigger.routes.map((routeKey) => ({ routeKey, ...settings(otp.trigger.throttle) })),
        );
        const routes = created(plan, "aws:apigatewayv2/route:Route");
        expect(routes.map((r) => r.inputs.routeKey).sort(), name).toEqual(
          [...http.trigger.routes, ...otp.trigger.routes].sort(),
        );
        // API Gateway refuses settings for a route that does not exist yet.
        expect(stage(plan).dependsOn, name).toEqual(expect.arrayContaining(routes.map(key)));
      }
    });

    it("every stage caps each queue consumer on its event source mapping", () => {
      for (const name of ["production", "dev"]) {
        const mappings = created(plans[name]!, "aws:lambda/eventSourceMapping:EventSourceMapping");
        const caps = mappings.map(
          (m) => (m.inputs.scalingConfig as { maximumConcurrency: number }).maximumConcurrency,
        );
        expect(caps.sort(), name).toEqual(
          consumers.map(([, f]) => maxInstances(f, notReserving)).sort(),
        );
      }
    });
  });

  describe("the API reference's script", () => {
    const byName = (plan: Plan, name: string) => {
      const found = plan.resources.filter((r) => r.name === name && !r.type.startsWith("sst:"));
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };

    it("is one object in a private bucket: public access blocked in full, readable by CloudFront alone", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const bucket = byName(plan, "DocsAssetsBucket");
        expect(bucket.type, name).toMatch(/^aws:s3\/bucket(V2)?:Bucket(V2)?$/);
        // Removed with the stage, even where the stage retains its data: it is node_modules' file.
        expect(bucket.retainOnDelete, name).toBe(false);
        expect(byName(plan, "DocsAssetsPublicAccessBlock").inputs, name).toMatchObject({
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        const policy = JSON.parse(byName(plan, "DocsAssetsPolicy").inputs.policy as string) as {
          Statement: {
            effect?: string;
            principals: { type: string; identifiers: string[] }[];
            actions: string[];
            resources: string[];
          }[];
        };
        const allowed = policy.Statement.filter((statement) => statement.effect !== "Deny");
        expect(allowed, name).toEqual([
          expect.objectContaining({
            principals: [{ type: "Service", identifiers: ["cloudfront.amazonaws.com"] }],
            actions: ["s3:GetObject"],
          }),
        ]);

        const object = byName(plan, "DocsScript");
        expect(object.type, name).toMatch(/^aws:s3\/bucketObjectv2:BucketObjectv2$/);
        expect(object.inputs, name).toMatchObject({
          key: docsScriptPath.slice(1),
          source: { asset: scalarScriptFile() },
          contentType: "text/javascript; charset=utf-8",
          cacheControl: "public, max-age=31536000, immutable",
        });
        // Plain: CloudFront compresses it for each browser; no ACL, no key of the stage's.
        for (const absent of ["contentEncoding", "acl", "kmsKeyId"]) {
          expect(object.inputs[absent], `${name} ${absent}`).toBeUndefined();
        }
      }
    });

    it("a distribution of the stage's own reads it with origin access control, compressed, and the http function's /docs loads it from there", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const bucket = byName(plan, "DocsAssetsBucket");
        const access = one(
          plan,
          "aws:cloudfront/originAccessControl:OriginAccessControl",
          "DocsAssetsAccess",
        );
        expect(access.inputs, name).toMatchObject({
          originAccessControlOriginType: "s3",
          signingBehavior: "always",
          signingProtocol: "sigv4",
        });
        const cdn = one(plan, "aws:cloudfront/distribution:Distribution", "DocsAssetsCdn");
        const origins = cdn.inputs.origins as Record<string, unknown>[];
        expect(origins, name).toEqual([
          {
            originId: "docs-assets",
            domainName: bucket.attributes.bucketRegionalDomainName,
            originAccessControlId: access.attributes.id,
          },
        ]);
        expect(cdn.inputs.defaultCacheBehavior, name).toMatchObject({
          targetOriginId: "docs-assets",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: docsScript.cachePolicyId,
        });
        expect(cdn.inputs.orderedCacheBehaviors, name).toBeUndefined();

        const http = one(plan, "aws:lambda/function:Function", "HttpFunction");
        expect(env(http).PREGON_DOCS_ORIGIN, name).toBe(`https://${cdn.attributes.domainName}`);
        expect(plan.outputs.docsOrigin, name).toBe(env(http).PREGON_DOCS_ORIGIN);
        for (const fn of lambdas(plan).filter((f) => f.name !== "HttpFunction")) {
          expect(env(fn).PREGON_DOCS_ORIGIN, `${name} ${fn.name}`).toBeUndefined();
        }
        // API Gateway has no route of its own for it any more, and no zip carries it.
        const routes = created(plan, "aws:apigatewayv2/route:Route");
        expect(
          routes.filter((r) => String(r.inputs.routeKey).includes("/docs")),
          name,
        ).toEqual([]);
        for (const [zip, entries] of Object.entries(plan.zips)) {
          expect(
            entries.filter((entry) => entry.endsWith(".js")),
            `${name} ${zip}`,
          ).toEqual([]);
        }
      }
    });
  });

  // Item: the functions connect as the application role; RDS's master user is the Migrator's alone.
  describe("the database roles", () => {
    const linkOf = (plan: Plan, build: string, link: string) =>
      plan.builds[build]!.links[link] as Record<string, string> | undefined;

    it("every function but the Migrator links the application role only; the master password reaches the Migrator alone", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const master = one(plan, "aws:rds/instance:Instance", "DatabaseInstance").inputs
          .password as string;
        expect(master, name).toBeTruthy();
        const builds = Object.keys(plan.builds);
        expect(builds, name).toHaveLength(all.length);
        for (const build of builds) {
          const app = linkOf(plan, build, "AppDatabase");
          expect(app, `${name} ${build}`).toMatchObject({
            username: Database.appRole,
            host: "proxy.mock",
            database: "pregon",
          });
          expect(app!.password, build).not.toBe(master);
          if (build === "Migrator") {
            expect(linkOf(plan, build, "Database"), build).toMatchObject({
              username: "postgres",
              password: master,
            });
          } else {
            expect(Object.keys(plan.builds[build]!.links), build).not.toContain("Database");
            expect(JSON.stringify(plan.builds[build]), build).not.toContain(master);
          }
        }
      }
    });

    it("RDS Proxy knows the application role: its secret holds the linked password, among the proxy's auths", () => {
      const plan = plans.production!;
      const password = linkOf(plan, "Http", "AppDatabase")!.password;
      const version = one(
        plan,
        "aws:secretsmanager/secretVersion:SecretVersion",
        `DatabaseProxySecretVersion${Database.appRole}`,
      );
      expect(JSON.parse(version.inputs.secretString as string)).toEqual({
        username: Database.appRole,
        password,
      });
      const secret = one(
        plan,
        "aws:secretsmanager/secret:Secret",
        `DatabaseProxySecret${Database.appRole}`,
      );
      const proxy = one(plan, "aws:rds/proxy:Proxy", "DatabaseProxy");
      expect(proxy.inputs.auths).toEqual(
        expect.arrayContaining([expect.objectContaining({ secretArn: secret.attributes.arn })]),
      );
      const role = one(plan, "aws:iam/role:Role", "DatabaseProxyRole");
      expect(JSON.stringify(role.inputs.inlinePolicies)).toContain(secret.attributes.arn as string);
    });

    it("the Migrator runs again when the role's password changes, and every other function waits for it", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const invocation = one(plan, "aws:lambda/invocation:Invocation", "Migrate");
        const password = linkOf(plan, "Migrator", "AppDatabase")!.password!;
        expect((invocation.inputs.triggers as Record<string, string>).appRole, name).toBe(
          createHash("sha256").update(password).digest("hex"),
        );
        // Pulumi registers a component's children once the component's dependencies exist.
        const waits = (resource: PlannedResource | undefined): boolean =>
          resource !== undefined &&
          (resource.dependsOn.includes("aws:lambda/invocation:Invocation::Migrate") ||
            waits(plan.resources.find((r) => key(r) === resource.parent)));
        for (const fn of lambdas(plan)) {
          expect(waits(fn), `${name} ${fn.name}`).toBe(fn.name !== "MigratorFunction");
        }
      }
    });
  });

  // Item: IAM, action by action, read from each function's role as SST would create it.
  describe("IAM", () => {
    const managed = [
      "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    ];
    interface Statement {
      effect?: string;
      actions: string[];
      resources: string[];
    }
    /** Each function (by its infra/settings.ts name) and the statements of its role. */
    function policies(plan: Plan) {
      const byRole: Record<string, string> = {
        HttpRole: "http",
        OtpRole: "otp",
        SweeperHandlerRole: "sweeper",
        MigratorRole: "migrator",
      };
      const result: Record<string, { statements: Statement[]; role: PlannedResource }> = {};
      for (const role of plan.resources.filter((r) => r.type === "aws:iam/role:Role")) {
        if (!role.parent?.startsWith("sst:aws:Function::")) continue;
        const queue = /^(\w+?)QueueSubscriber/.exec(role.name)?.[1]?.toLowerCase();
        const name =
          byRole[role.name] ??
          consumers.find(([, f]) => f.trigger.kind === "queue" && f.trigger.queue === queue)?.[0];
        expect(name, role.name).toBeDefined();
        const inline = (role.inputs.inlinePolicies ?? []) as { policy: string }[];
        result[name!] = {
          role,
          statements: inline.flatMap((p) => JSON.parse(p.policy).Statement as Statement[]),
        };
      }
      expect(Object.keys(result).sort()).toEqual(all.map(([name]) => name).sort());
      return result;
    }

    it("no role may use a wildcard action; a function's `*` only for sns:Publish to phone numbers, ses:GetAccount and X-Ray", () => {
      for (const name of ["production", "dev", "asked"]) {
        for (const [fn, { statements, role }] of Object.entries(policies(plans[name]!))) {
          for (const statement of statements) {
            expect(statement.effect, fn).toBe("Allow");
            for (const action of statement.actions) {
              expect(action, `${name} ${fn}`).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
            }
            if (statement.resources.includes("*")) {
              expect(`${fn} ${statement.actions.join(",")}`, name).toMatch(
                /^(smsSender sns:Publish|emailSender ses:GetAccount|\w+ xray:PutTraceSegments,xray:PutTelemetryRecords)$/,
              );
              expect(statement.resources, fn).toEqual(["*"]);
            }
          }
          expect(role.inputs.managedPolicyArns, fn).toEqual(managed);
          // Only Lambda assumes it (SST also lets the account's root, for `sst dev`).
          const trust = role.inputs.assumeRolePolicy;
          const policy = typeof trust === "string" ? JSON.parse(trust) : trust;
          expect(policy.Statement, fn).toEqual([
            expect.objectContaining({
              Action: "sts:AssumeRole",
              Principal: { Service: "lambda.amazonaws.com" },
            }),
          ]);
        }
        // Every other role too: SST's, the SMS delivery logs' and the templates' replication.
        for (const role of created(plans[name]!, "aws:iam/role:Role")) {
          const inline = (role.inputs.inlinePolicies ?? []) as { policy: string }[];
          for (const statement of inline.flatMap((p) => JSON.parse(p.policy).Statement)) {
            for (const action of (statement as Statement).actions) {
              expect(action, `${name} ${role.name}`).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
            }
          }
        }
      }
    });

    it("each resource is the one the function uses: its topics, the bucket's objects, the SES identity and set, its queue, the key", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const arn = (type: string, resource: string) =>
          one(plan, type, resource).attributes.arn as string;
        const topics = ["Email", "Sms", "Push", "Events", "Webhooks"].map((t) =>
          arn("aws:sns/topic:Topic", `${t}TopicTopic`),
        );
        const bucket = arn("aws:s3/bucket:Bucket", "TemplatesBucket");
        const identity = plan.resources.find(
          (r) => r.type === "aws:sesv2/emailIdentity:EmailIdentity",
        )!.attributes.arn;
        const set = arn("aws:sesv2/configurationSet:ConfigurationSet", "EmailConfigurationSet");
        const dataKey = arn("aws:kms/key:Key", "DataKey");
        for (const [fn, { statements }] of Object.entries(policies(plan))) {
          for (const { actions, resources } of statements) {
            const kind = actions[0]!.split(":")[0];
            if (actions.includes("sns:Publish") && !resources.includes("*") && fn !== "pushSender")
              expect(resources, fn).toEqual(topics);
            if (kind === "s3") expect(resources, fn).toEqual([`${bucket}/*`]);
            if (actions.includes("ses:SendEmail")) expect(resources, fn).toEqual([identity, set]);
            if (kind === "kms") expect(resources, fn).toEqual([dataKey]);
            if (kind === "sqs") {
              const { queue } = functions[fn as keyof typeof functions].trigger as {
                queue: string;
              };
              const queueName = `${queue.charAt(0).toUpperCase()}${queue.slice(1)}QueueQueue`;
              expect(resources, fn).toEqual([arn("aws:sqs/queue:Queue", queueName)]);
            }
          }
        }
      }
    });

    it("docs/deploy.md's table lists exactly each function's actions", () => {
      const labels: Record<string, string> = {
        http: "Http",
        otp: "Otp",
        emailSender: "email sender",
        smsSender: "sms sender",
        pushSender: "push sender",
        audit: "audit",
        webhooks: "webhooks",
        feedback: "feedback",
        sweeper: "Sweeper",
        migrator: "Migrator",
      };
      const doc = readFileSync(join(root, "docs", "deploy.md"), "utf8");
      const section = doc.split("## What each function may touch")[1]!.split("\n## ")[0]!;
      // With push configured, the push sender's statements are there too.
      const plan = plans.production!;
      for (const [fn, { statements }] of Object.entries(policies(plan))) {
        const row = section.split("\n").find((line) => line.startsWith(`| ${labels[fn]} `));
        expect(row, fn).toBeDefined();
        const listed = new Set(
          [...row!.matchAll(/`([a-z0-9]+:[A-Za-z]+)`/g)].map((match) => match[1]!),
        );
        const granted = new Set(statements.flatMap((s) => s.actions));
        if (fn === "pushSender") {
          for (const action of [
            "sns:CreatePlatformEndpoint",
            "sns:GetEndpointAttributes",
            "sns:SetEndpointAttributes",
          ]) {
            granted.add(action);
          }
        }
        expect([...listed].sort(), fn).toEqual([...granted].sort());
      }
    });
  });

  // Item: what production is built with, against any other stage.
  describe("production defaults", () => {
    it("production's database is multi-AZ, protected from deletion, snapshotted when deleted, its backups kept; dev's none of it", () => {
      const production = one(plans.production!, "aws:rds/instance:Instance", "DatabaseInstance");
      expect(production.inputs).toMatchObject({
        multiAz: true,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: "pregon-production-database-final",
        deleteAutomatedBackups: false,
        copyTagsToSnapshot: true,
      });
      const dev = one(plans.dev!, "aws:rds/instance:Instance", "DatabaseInstance");
      expect(dev.inputs).toMatchObject({
        multiAz: false,
        deletionProtection: false,
        skipFinalSnapshot: true,
      });
      expect(dev.inputs.finalSnapshotIdentifier).toBeUndefined();
    });

    it("production's NAT is a NAT gateway per AZ; another stage's an fck-nat instance per AZ, each watched, recovered and rebooted", () => {
      const natInstances = (plan: Plan) =>
        created(plan, "aws:ec2/instance:Instance").filter(
          (r) => (r.inputs.tags as Record<string, string>)["sst:is-nat"] === "true",
        );
      const natAlarmsOf = (plan: Plan) =>
        created(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
          (r) => r.inputs.namespace === "AWS/EC2",
        );
      const production = plans.production!;
      expect(created(production, "aws:ec2/natGateway:NatGateway")).toHaveLength(2);
      expect(natInstances(production)).toEqual([]);
      expect(natAlarmsOf(production)).toEqual([]);

      const dev = plans.dev!;
      expect(created(dev, "aws:ec2/natGateway:NatGateway")).toEqual([]);
      const instances = natInstances(dev);
      expect(instances).toHaveLength(2);
      const topic = one(dev, "aws:sns/topic:Topic", "AlarmTopicTopic").attributes.arn;
      const alarmsOf = natAlarmsOf(dev);
      expect(alarmsOf).toHaveLength(instances.length * natAlarms.length);
      for (const instance of instances) {
        for (const { metric, action } of natAlarms) {
          const alarm = alarmsOf.find(
            (a) =>
              a.inputs.metricName === metric &&
              (a.inputs.dimensions as Record<string, string>).InstanceId === instance.attributes.id,
          );
          expect(alarm?.inputs, `${instance.name} ${metric}`).toMatchObject({
            alarmActions: [topic, `arn:aws:automate:us-east-1:ec2:${action}`],
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
          });
        }
      }
    });

    it("CORS: none unless origins are configured, then only those; the bucket admits none", () => {
      const cors = (plan: Plan) =>
        one(plan, "aws:apigatewayv2/api:Api", "ApiApi").inputs.corsConfiguration;
      expect(cors(plans.production!)).toEqual({});
      expect(cors(plans.dev!)).toEqual({});
      expect(cors(plans.asked!)).toMatchObject({
        allowOrigins: ["https://console.acme.example", "http://localhost:5173"],
        allowHeaders: expect.not.arrayContaining(["*"]),
        allowMethods: expect.not.arrayContaining(["*"]),
      });
      for (const name of Object.keys(runs)) {
        expect(
          created(plans[name]!, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"),
        ).toEqual([]);
      }
    });
  });

  describe("the migrator", () => {
    it("runs once the database, the proxy and its target exist, when its code, the migrations or the instance change", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const [invocation, ...more] = created(plan, "aws:lambda/invocation:Invocation");
        expect(more, name).toEqual([]);
        expect(invocation!.dependsOn, name).toEqual(
          expect.arrayContaining([
            "aws:rds/instance:Instance::DatabaseInstance",
            "aws:rds/proxy:Proxy::DatabaseProxy",
            "aws:rds/proxyTarget:ProxyTarget::DatabaseProxyTarget",
            "aws:lambda/function:Function::MigratorFunction",
          ]),
        );
        const migrator = one(plan, "aws:lambda/function:Function", "MigratorFunction");
        const instance = one(plan, "aws:rds/instance:Instance", "DatabaseInstance");
        const triggers = invocation!.inputs.triggers as Record<string, string>;
        expect(triggers.code, name).toBe(migrator.attributes.codeSha256);
        expect(triggers.code, name).toBeTruthy();
        expect(triggers.database, name).toBe(instance.attributes.resourceId);
        expect(triggers.migrations, name).toMatch(/^[0-9a-f]{64}$/);
        expect(invocation!.inputs.functionName, name).toBe(migrator.inputs.name);
      }
    });
  });

  describe("zips", () => {
    it("SST builds every function for nodejs22.x, split, with no `sourcemap` argument and no esbuild options of ours", () => {
      const builds = Object.entries(plans.production!.builds);
      expect(builds).toHaveLength(all.length);
      for (const [id, { runtime: built, properties }] of builds) {
        expect(built, id).toBe("nodejs22.x");
        expect(properties.sourcemap, id).toBeUndefined();
        expect(properties.esbuild, id).toBeUndefined();
        // esbuild's code splitting, as scripts/bundle.ts builds it.
        expect(properties.splitting, id).toBe(true);
      }
    });

    it("no zip carries a map: SST uploads each beside the code, and keeps it", () => {
      const plan = plans.production!;
      const zips = Object.entries(plan.zips);
      expect(zips).toHaveLength(all.length);
      for (const [object, entries] of zips) {
        expect(entries, object).toContain("bundle.mjs");
        // The function's links, sealed (what Resource.X opens with SST_KEY).
        expect(entries, object).toContain("resource.enc");
        expect(
          entries.filter((e) => e.endsWith(".map")),
          object,
        ).toEqual([]);
        const map = one(
          plan,
          "aws:s3/bucketObjectv2:BucketObjectv2",
          object.replace(/Code$/, "Sourcemap0"),
        );
        expect(map.inputs.key as string, object).toMatch(/\.map$/);
        expect(map.retainOnDelete, object).toBe(true);
      }
      expect(plan.zips.MigratorCode!.some((e) => /^migrations\/.+\.sql$/.test(e))).toBe(true);
    });
  });

  it("the sweeper runs on CronV2 (EventBridge Scheduler), every minute, and a failed run is not retried", () => {
    const plan = plans.production!;
    expect(plan.resources.filter((r) => r.type === "sst:aws:Cron")).toEqual([]);
    expect(created(plan, "aws:cloudwatch/eventRule:EventRule")).toEqual([]);
    one(plan, "sst:aws:CronV2", "Sweeper");
    const schedule = one(plan, "aws:scheduler/schedule:Schedule", "SweeperSchedule");
    expect(schedule.inputs.scheduleExpression).toBe("rate(1 minute)");
    const invokeConfig = one(
      plan,
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      "SweeperHandlerEventInvokeConfig",
    );
    expect(invokeConfig.inputs.maximumRetryAttempts).toBe(functions.sweeper.trigger.retries);
    // What the scheduler hands the function: the event test/bundles.test.ts drives its zip with.
    const target = schedule.inputs.target as { input: string };
    expect(JSON.parse(target.input)).toEqual(sweeperEvent);
  });

  // Item: alarms, each on the one topic an operator subscribes to.
  describe("alarms", () => {
    const alarmsOf = (plan: Plan) => created(plan, "aws:cloudwatch/metricAlarm:MetricAlarm");
    const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
    /** The Lambda function a function of infra/settings.ts becomes. */
    const lambdaOf = (plan: Plan, fn: FunctionName) => {
      const setting: FunctionSetting = functions[fn];
      if (setting.trigger.kind === "queue") {
        const queue = pascal(setting.trigger.queue);
        const [found, ...more] = lambdas(plan).filter((r) =>
          new RegExp(`^${queue}QueueSubscriber\\w*Function$`).test(r.name),
        );
        expect(more, fn).toEqual([]);
        return found!;
      }
      const names: Partial<Record<FunctionName, string>> = { sweeper: "SweeperHandlerFunction" };
      return one(plan, "aws:lambda/function:Function", names[fn] ?? `${pascal(fn)}Function`);
    };

    it("every alarm of the stage's settings, once each, on the resource it names, notifying the alarm topic", () => {
      for (const name of ["production", "dev", "asked", "manual"]) {
        const [stage, env] = runs[name]!;
        const plan = plans[name]!;
        const expected = alarmsFor(readDeployConfig(env, stage).config);
        const topic = one(plan, "aws:sns/topic:Topic", "AlarmTopicTopic").attributes.arn;
        const declared = alarmsOf(plan).filter((a) => a.inputs.namespace !== "AWS/EC2");
        expect(declared.map((a) => a.inputs.name).sort(), name).toEqual(
          expected.map((a) => `pregon-${stage}-${a.name}`).sort(),
        );
        const attribute = (type: string, resource: string, field: string) =>
          one(plan, type, resource).attributes[field] ?? one(plan, type, resource).inputs[field];
        for (const alarm of expected) {
          const [resource] = declared.filter(
            (a) => a.inputs.name === `pregon-${stage}-${alarm.name}`,
          );
          const inputs = resource!.inputs;
          expect(inputs, alarm.name).toMatchObject({
            alarmActions: [topic],
            okActions: [topic],
            comparisonOperator: alarm.comparison,
            threshold: alarm.threshold,
            evaluationPeriods: alarm.evaluationPeriods,
            treatMissingData: alarm.treatMissingData,
          });
          expect(inputs.alarmDescription, alarm.name).toContain("docs/operations.md");
          let dimensions: Record<string, unknown> = {};
          const { on } = alarm;
          if ("dlq" in on) {
            const queue = `${pascal(on.dlq)}QueueDlqQueue`;
            dimensions = { QueueName: attribute("aws:sqs/queue:Queue", queue, "name") };
          } else if ("queue" in on) {
            const queue = `${pascal(on.queue)}QueueQueue`;
            dimensions = { QueueName: attribute("aws:sqs/queue:Queue", queue, "name") };
          } else if ("function" in on) {
            const fn = lambdaOf(plan, on.function);
            dimensions = { FunctionName: fn.inputs.name ?? fn.attributes.name };
          } else if ("api" in on) {
            dimensions = { ApiId: one(plan, "aws:apigatewayv2/api:Api", "ApiApi").attributes.id };
          } else if ("database" in on) {
            const instance = one(plan, "aws:rds/instance:Instance", "DatabaseInstance");
            dimensions = { DBInstanceIdentifier: instance.inputs.identifier };
            expect(instance.inputs.identifier, name).toBeTruthy();
          } else if ("app" in on) {
            dimensions = { service: "pregon", stage };
          }
          if (alarm.rate) {
            // 100 x errors / requests, over periods with enough requests to mean something.
            const queries = inputs.metricQueries as {
              id: string;
              expression?: string;
              returnData?: boolean;
              metric?: { metricName: string; namespace: string; stat: string; dimensions: object };
            }[];
            const metrics = queries.filter((q) => q.metric).map((q) => q.metric!);
            expect(metrics.map((m) => m.metricName).sort(), alarm.name).toEqual(
              [alarm.metric, alarm.rate.of].sort(),
            );
            for (const metric of metrics) {
              expect(metric, alarm.name).toMatchObject({
                namespace: alarm.namespace,
                stat: alarm.statistic,
                dimensions,
              });
            }
            const [result] = queries.filter((q) => q.returnData);
            expect(result!.expression, alarm.name).toContain(String(alarm.rate.minimum));
            continue;
          }
          expect(inputs, alarm.name).toMatchObject({
            namespace: alarm.namespace,
            metricName: alarm.metric,
            period: alarm.periodSeconds,
          });
          if (alarm.statistic.startsWith("p")) {
            expect(inputs.extendedStatistic, alarm.name).toBe(alarm.statistic);
          } else expect(inputs.statistic, alarm.name).toBe(alarm.statistic);
          expect(inputs.dimensions ?? {}, alarm.name).toEqual(dimensions);
        }
      }
    });

    it("the SMS spend alarm compares the month's spend with the limit production sets", () => {
      const spend = alarmsOf(plans.asked!).find(
        (a) => a.inputs.metricName === "SMSMonthToDateSpentUSD",
      );
      const preferences = one(
        plans.asked!,
        "aws:sns/smsPreferences:SmsPreferences",
        "SmsPreferences",
      );
      expect(spend!.inputs.threshold).toBe((preferences.inputs.monthlySpendLimit as number) * 0.8);
      expect(alarmsOf(plans.production!).map((a) => a.inputs.metricName)).not.toContain(
        "SMSMonthToDateSpentUSD",
      );
    });
  });

  // Item: what `sst dev` creates, and what each profile costs while idle.
  describe("cost", () => {
    /** What bills by the hour or the month while idle, by type (docs/deploy.md, monthly cost). */
    const billed = [
      "aws:ec2/natGateway:NatGateway",
      "aws:ec2/instance:Instance",
      "aws:ec2/eip:Eip",
      "aws:rds/instance:Instance",
      "aws:rds/proxy:Proxy",
      "aws:secretsmanager/secret:Secret",
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "aws:kms/key:Key",
      "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace",
      "aws:route53/zone:Zone",
      "aws:ec2/vpcEndpoint:VpcEndpoint",
      "aws:route53/healthCheck:HealthCheck",
    ];
    const billedWhileIdle = (plan: Plan) => {
      const counts: Record<string, number> = {};
      for (const r of plan.resources.filter((r) => r.readId === undefined)) {
        if (billed.includes(r.type)) counts[r.type] = (counts[r.type] ?? 0) + 1;
      }
      return counts;
    };

    it("sst dev creates no VPC, NAT, address, bastion, database, secret or alarm: the data key is all that bills while idle", () => {
      const plan = plans.live!;
      expect(billedWhileIdle(plan)).toEqual({ "aws:kms/key:Key": 1 });
      expect(created(plan, "aws:ec2/vpc:Vpc")).toEqual([]);
      expect(created(plan, "aws:sns/topic:Topic").map((t) => t.name)).not.toContain(
        "AlarmTopicTopic",
      );
      for (const fn of lambdas(plan)) expect(fn.inputs.vpcConfig, fn.name).toBeUndefined();
      // Its functions still reach what they link: the local Postgres and the stage's topics.
      expect(plan.builds.Http!.links.AppDatabase).toMatchObject({ host: "127.0.0.1" });
      expect(plan.builds.Http!.links.EmailTopic).toMatchObject({ arn: expect.any(String) });
    });

    it("a deployed stage bills what docs/deploy.md counts, per profile", () => {
      const alarmsOfRun = (name: string) =>
        alarmsFor(readDeployConfig(runs[name]![1], runs[name]![0]).config);
      const alarmCount = (name: string) => alarmsOfRun(name).length;
      // CloudWatch bills each metric an alarm watches: a rate watches two.
      const alarmMetrics = (name: string, extra = 0) =>
        alarmsOfRun(name).reduce((sum, alarm) => sum + (alarm.rate ? 2 : 1), extra);
      expect(billedWhileIdle(plans.dev!)).toEqual({
        // Two fck-nat instances (also the bastion), each with its Elastic IP.
        "aws:ec2/instance:Instance": 2,
        "aws:ec2/eip:Eip": 2,
        "aws:rds/instance:Instance": 1,
        "aws:rds/proxy:Proxy": 1,
        "aws:secretsmanager/secret:Secret": 2,
        "aws:cloudwatch/metricAlarm:MetricAlarm": alarmCount("dev") + 2 * natAlarms.length,
        "aws:kms/key:Key": 1,
        "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": 1,
      });
      expect(billedWhileIdle(plans.production!)).toEqual({
        "aws:ec2/natGateway:NatGateway": 2,
        // The NAT gateways' addresses, and the bastion's own instance.
        "aws:ec2/eip:Eip": 2,
        "aws:ec2/instance:Instance": 1,
        "aws:rds/instance:Instance": 1,
        "aws:rds/proxy:Proxy": 1,
        "aws:secretsmanager/secret:Secret": 2,
        "aws:cloudwatch/metricAlarm:MetricAlarm": alarmCount("production"),
        "aws:kms/key:Key": 1,
        "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": 1,
      });
      // The passive twin: production's, less the proxy and its application role's secret.
      expect(billedWhileIdle(plans.passive!)).toEqual({
        "aws:ec2/natGateway:NatGateway": 2,
        "aws:ec2/eip:Eip": 2,
        "aws:ec2/instance:Instance": 1,
        "aws:rds/instance:Instance": 1,
        "aws:secretsmanager/secret:Secret": 1,
        "aws:cloudwatch/metricAlarm:MetricAlarm": alarmCount("passive"),
        "aws:kms/key:Key": 1,
        "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": 1,
        "aws:route53/healthCheck:HealthCheck": 1,
      });
      const doc = readFileSync(join(root, "docs", "deploy.md"), "utf8");
      const costs = doc.split("## Monthly cost")[1]!.split("\n## ")[0]!;
      const row = costs.split("\n").find((line) => line.startsWith("| CloudWatch alarms"));
      expect(row).toContain(`${alarmMetrics("dev", 2 * natAlarms.length)} × $0.10`);
      expect(row).toContain(`${alarmMetrics("production")} × $0.10`);
    });

    it("each profile's database: its instance class and storage", () => {
      for (const [name, profile] of [
        ["production", profiles.production],
        ["dev", profiles.dev],
      ] as const) {
        const instance = one(plans[name]!, "aws:rds/instance:Instance", "DatabaseInstance");
        expect(instance.inputs, name).toMatchObject({
          instanceClass: `db.${profile.database.instance}`,
          allocatedStorage: profile.database.storageGb,
          multiAz: profile.database.multiAz,
        });
      }
    });
  });

  describe("a second region", () => {
    it("every stage's provider is pinned to its region, and its resources are made there", () => {
      expect(plans.production!.app.providers).toEqual({ aws: { region: "us-east-1" } });
      expect(plans.passive!.app.providers).toEqual({ aws: { region: "eu-west-1" } });
      expect(plans.passive!.outputs.region).toBe("eu-west-1");
      const topics = Object.values(plans.passive!.outputs.topics as Record<string, string>);
      for (const arn of topics) expect(arn.split(":")[3]).toBe("eu-west-1");
    });

    it("the passive stage's database is a cross-region replica of the primary's, on its own key, with the primary's master password and no proxy", () => {
      const plan = plans.passive!;
      const instance = one(plan, "aws:rds/instance:Instance", "DatabaseInstance");
      const dataKey = one(plan, "aws:kms/key:Key", "DataKey");
      expect(instance.inputs).toMatchObject({
        replicateSourceDb: primaryDatabase,
        kmsKeyId: dataKey.attributes.arn,
        instanceClass: `db.${profiles.production.database.instance}`,
      });
      // The secret the operator sets to the primary's password (mocked by the plan).
      expect(String(instance.inputs.password)).toMatch(/^mock-DatabaseMasterPassword-/);
      expect(created(plan, "aws:rds/proxy:Proxy")).toEqual([]);
      // Nothing migrates a read-only replica.
      expect(created(plan, "aws:lambda/invocation:Invocation")).toEqual([]);
      const primary = one(plans.production!, "aws:rds/instance:Instance", "DatabaseInstance");
      expect(primary.inputs.replicateSourceDb).toBeUndefined();
      expect(created(plans.production!, "aws:rds/proxy:Proxy")).toHaveLength(1);
      expect(created(plans.production!, "aws:lambda/invocation:Invocation")).toHaveLength(1);
    });

    it("the passive stage sends nothing: every queue consumer's mapping and the sweeper's schedule are disabled", () => {
      const mappings = (plan: Plan) =>
        created(plan, "aws:lambda/eventSourceMapping:EventSourceMapping");
      const schedule = (plan: Plan) =>
        one(plan, "aws:scheduler/schedule:Schedule", "SweeperSchedule");
      expect(mappings(plans.passive!)).toHaveLength(consumers.length);
      for (const mapping of mappings(plans.passive!)) {
        expect(mapping.inputs.enabled, mapping.name).toBe(false);
      }
      expect(schedule(plans.passive!).inputs.state).toBe("DISABLED");
      for (const mapping of mappings(plans.production!)) {
        expect(mapping.inputs.enabled, mapping.name).toBe(true);
      }
      expect(schedule(plans.production!).inputs.state).toBe("ENABLED");
      expect(plans.passive!.outputs.passive).toBe(true);
      expect(plans.production!.outputs.passive).toBe(false);
    });

    it("the passive stage has its own SES identity and KMS key, in its region", () => {
      const plan = plans.passive!;
      expect(created(plan, identityType).map((r) => r.inputs.emailIdentity)).toEqual([
        "acme.example",
      ]);
      expect(created(plan, "aws:kms/key:Key")).toHaveLength(1);
      expect(plan.outputs.dkimTokens).toEqual(["dkimtoken1", "dkimtoken2", "dkimtoken3"]);
    });

    it("the API's domain fails over: each stage's alias is a failover record following a health check of its own endpoint's readiness", () => {
      for (const [name, type] of [
        ["asked", "PRIMARY"],
        ["passive", "SECONDARY"],
      ] as const) {
        const plan = plans[name]!;
        const [check, ...more] = created(plan, "aws:route53/healthCheck:HealthCheck");
        expect(more, name).toEqual([]);
        const api = one(plan, "aws:apigatewayv2/api:Api", "ApiApi");
        expect(check!.inputs, name).toMatchObject({
          type: "HTTPS",
          fqdn: new URL(String(api.attributes.apiEndpoint)).host,
          port: 443,
          resourcePath: apiFailover.healthPath,
          requestInterval: apiFailover.intervalSeconds,
          failureThreshold: apiFailover.failureThreshold,
        });
        const region = (plan.app.providers as { aws: { region: string } }).aws.region;
        const records = created(plan, recordType).filter(
          (r) => r.inputs.name === "api.acme.example",
        );
        expect(records.map((r) => r.inputs.type).sort(), name).toEqual(["A", "AAAA"]);
        for (const record of records) {
          expect(record.inputs, name).toMatchObject({
            setIdentifier: `${plan.stage}-${region}`,
            failoverRoutingPolicies: [{ type }],
            healthCheckId: check!.attributes.id,
          });
        }
        // The certificate's validation record is the same in both regions: either may write it.
        const validation = created(plan, recordType).filter((r) =>
          String(r.inputs.name).startsWith("_validation."),
        );
        expect(validation.length, name).toBeGreaterThan(0);
        for (const record of validation) expect(record.inputs.allowOverwrite, name).toBe(true);
        expect(plan.outputs.apiHealthCheck, name).toBe(check!.attributes.id);
      }
      for (const name of ["production", "manual"]) {
        expect(created(plans[name]!, "aws:route53/healthCheck:HealthCheck"), name).toEqual([]);
      }
    });

    const replicationType = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
    const versioningType = "aws:s3/bucketVersioning:BucketVersioning";
    /** Roles S3 assumes (nothing but replication). */
    const s3Roles = (plan: Plan) =>
      created(plan, "aws:iam/role:Role").filter((r) =>
        JSON.stringify(r.inputs.assumeRolePolicy).includes("s3.amazonaws.com"),
      );

    it("the primary replicates every template version to the passive stage's bucket, under its key, with a role S3 alone assumes that may do only that", () => {
      const plan = plans.asked!;
      const [replication, ...more] = created(plan, replicationType);
      expect(more).toEqual([]);
      const bucket = one(plan, "aws:s3/bucket:Bucket", "TemplatesBucket");
      const dataKey = one(plan, "aws:kms/key:Key", "DataKey").attributes.arn as string;
      const [role, ...moreRoles] = s3Roles(plan);
      expect(moreRoles).toEqual([]);
      expect(replication!.inputs).toEqual({
        bucket: bucket.inputs.bucket,
        role: role!.attributes.arn,
        rules: [
          {
            id: "every-template",
            status: "Enabled",
            filter: {},
            deleteMarkerReplication: { status: "Disabled" },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
            destination: {
              bucket: replicaBucket,
              encryptionConfiguration: { replicaKmsKeyId: replicaKey },
            },
          },
        ],
      });
      // Created once the source bucket is versioned (S3 refuses it before).
      expect(replication!.dependsOn).toContain(`${versioningType}::TemplatesVersioning`);

      expect((role!.inputs.assumeRolePolicy as { Statement: unknown }).Statement).toEqual([
        expect.objectContaining({
          Action: "sts:AssumeRole",
          Principal: { Service: "s3.amazonaws.com" },
        }),
      ]);
      const inline = role!.inputs.inlinePolicies as { policy: string }[];
      const statements = inline.flatMap((p) => JSON.parse(p.policy).Statement);
      const source = bucket.attributes.arn as string;
      const via = (region: string) => [
        {
          test: "StringEquals",
          variable: "kms:ViaService",
          values: [`s3.${region}.amazonaws.com`],
        },
      ];
      expect(statements).toEqual([
        {
          actions: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
          resources: [source],
        },
        {
          actions: [
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionTagging",
          ],
          resources: [`${source}/*`],
        },
        { actions: ["s3:ReplicateObject", "s3:ReplicateTags"], resources: [`${replicaBucket}/*`] },
        { actions: ["kms:Decrypt"], resources: [dataKey], conditions: via("us-east-1") },
        { actions: ["kms:Encrypt"], resources: [replicaKey], conditions: via("eu-west-1") },
      ]);
    });

    it("every stage's templates bucket is versioned (a passive one receives replicas); only the primary that names a replica replicates", () => {
      for (const name of ["production", "dev", "asked", "passive", "manual"]) {
        const versioning = one(plans[name]!, versioningType, "TemplatesVersioning");
        expect(versioning.inputs.versioningConfiguration, name).toEqual({ status: "Enabled" });
      }
      for (const name of ["production", "dev", "passive", "manual"]) {
        expect(created(plans[name]!, replicationType), name).toEqual([]);
        expect(s3Roles(plans[name]!), name).toEqual([]);
      }
      // The passive stage's deploy prints what the primary names.
      const passive = plans.passive!;
      expect(passive.outputs.templatesBucketArn).toBe(
        one(passive, "aws:s3/bucket:Bucket", "TemplatesBucket").attributes.arn,
      );
      expect(passive.outputs.dataKey).toBe(
        one(passive, "aws:kms/key:Key", "DataKey").attributes.arn,
      );
    });
  });

  // Item: per stage, metrics, tracing, log retention, a domain for the API.
  describe("per stage", () => {
    it("every function knows its stage, which its metrics carry", () => {
      for (const name of ["production", "dev", "manual"]) {
        for (const fn of lambdas(plans[name]!)) {
          expect(env(fn).PREGON_STAGE, `${name} ${fn.name}`).toBe(plans[name]!.stage);
        }
      }
    });

    it("logs are kept as long as the stage's profile says, the API's access log too", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const days = logRetentionDays[profiles[name as "production" | "dev"].logRetention];
        const groups = created(plan, "aws:cloudwatch/logGroup:LogGroup");
        expect(groups.length, name).toBe(lambdas(plan).length + 1);
        for (const group of groups) {
          expect(group.inputs.retentionInDays, `${name} ${group.name}`).toBe(days);
        }
      }
      // The days are SST's for each name it accepts (its RETENTION table, read as text).
      const logging = join(root, ".sst", "platform", "src", "components", "aws", "logging.ts");
      const table = readFileSync(logging, "utf8").split("RETENTION = {")[1]!.split("}")[0]!;
      const sst = [...table.matchAll(/^\s*"?([\w ]+?)"?: (\d+),/gm)].map(([, k, v]) => [
        k,
        Number(v),
      ]);
      expect(Object.entries(logRetentionDays)).toEqual(sst);
    });

    it("tracing: off by default; on, every function is traced actively, may write to X-Ray, and loads the tracer", () => {
      for (const fn of lambdas(plans.production!)) {
        expect(fn.inputs.tracingConfig, fn.name).toBeUndefined();
        expect(env(fn).PREGON_TRACING, fn.name).toBeUndefined();
      }
      const plan = plans.asked!;
      for (const fn of lambdas(plan)) {
        expect(fn.inputs.tracingConfig, fn.name).toEqual({ mode: "Active" });
        expect(env(fn).PREGON_TRACING, fn.name).toBe("true");
      }
      for (const role of created(plan, "aws:iam/role:Role").filter((r) =>
        r.parent?.startsWith("sst:aws:Function::"),
      )) {
        const statements = ((role.inputs.inlinePolicies ?? []) as { policy: string }[]).flatMap(
          (p) => JSON.parse(p.policy).Statement as { actions: string[]; resources: string[] }[],
        );
        expect(statements, role.name).toContainEqual(
          expect.objectContaining({ actions: [...xrayActions], resources: ["*"] }),
        );
      }
    });

    it("the API's domain: none unless asked; with Route 53 a validated certificate and an alias; elsewhere the given certificate", () => {
      for (const name of ["production", "dev"]) {
        expect(created(plans[name]!, "aws:apigatewayv2/domainName:DomainName"), name).toEqual([]);
      }
      for (const name of ["asked", "manual"]) {
        const plan = plans[name]!;
        const [domainName, ...more] = created(plan, "aws:apigatewayv2/domainName:DomainName");
        expect(more, name).toEqual([]);
        expect(domainName!.inputs.domainName, name).toBe("api.acme.example");
        const config = domainName!.inputs.domainNameConfiguration as { certificateArn: string };
        const [mapping] = created(plan, "aws:apigatewayv2/apiMapping:ApiMapping");
        expect(mapping!.inputs.domainName, name).toBe(domainName!.attributes.id);
        expect(plan.outputs.api, name).toBe("https://api.acme.example");
        const certificates = created(plan, "aws:acm/certificate:Certificate");
        const aliases = created(plan, "aws:route53/record:Record").filter(
          (r) => r.inputs.name === "api.acme.example",
        );
        if (name === "manual") {
          expect(config.certificateArn).toBe(apiCert);
          expect(certificates).toEqual([]);
          expect(aliases).toEqual([]);
        } else {
          expect(certificates.map((c) => c.inputs.domainName)).toEqual(["api.acme.example"]);
          expect(config.certificateArn).toBe(certificates[0]!.attributes.arn);
          expect(aliases.length).toBeGreaterThan(0);
        }
      }
    });
  });
});
