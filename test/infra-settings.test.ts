// The properties of the deployment that matter, checked from infra/settings.ts (plain data: the infra
// files build every resource from it) and, where a decision lives in an infra file's text, from
// that text. Each check relates two numbers or two lists, so editing one side alone fails here.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { appRouter, buildOpenApiDocument } from "@pregon/api";
import { docsScriptPath, scalarScriptFile } from "@pregon/api/docs";
import { Database } from "@pregon/core";
import { poolSize } from "@pregon/functions/lambda";
import { leaseMs, pipelines, strandedAfterMs } from "@pregon/functions/pipelines";
import { beforeAll, describe, expect, it } from "vitest";
import {
  alarms,
  anyResource,
  type ConcurrencyMode,
  connectionDemand,
  database,
  defaultSmsCountries,
  encryption,
  type FunctionSetting,
  functions,
  instancesPerRoute,
  keyServiceActions,
  keyServicePrincipals,
  linksDatabase,
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
  smsRatePerInstance,
  type Throttle,
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
  it("is routed where /docs loads it from, to a function that touches nothing", () => {
    const { docsAssets } = functions;
    expect(docsAssets.trigger.routes).toEqual(["GET /docs/assets/{proxy+}"]);
    expect(docsScriptPath.startsWith("/docs/assets/")).toBe(true);
    expect([docsAssets.links, docsAssets.permissions, docsAssets.environment]).toEqual([
      [],
      [],
      [],
    ]);
    // The file the zip carries is the one the local server serves.
    expect(join(root, docsAssets.copyFiles[0]!.from)).toBe(scalarScriptFile());
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
      // The API reference's script is a file: no link at all (checked with its route).
      if (name === "docsAssets") continue;
      expect(f.links, name).toContain("AppDatabase");
      expect(f.links.includes("Database"), name).toBe(name === "migrator");
    }
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
  it("Node 22 on arm64, ESM, minified; no `sourcemap` key, so SST keeps the map out of the zip", () => {
    expect(runtime).toMatchObject({
      runtime: "nodejs22.x",
      architecture: "arm64",
      nodejs: { format: "esm", minify: true },
    });
    expect("sourcemap" in runtime.nodejs).toBe(false);
    expect("target" in runtime.nodejs.esbuild).toBe(false);
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

  it("the database and NAT: production's profile there, the other elsewhere; PREGON_NAT overrides", () => {
    for (const stage of stages) {
      const { config } = readDeployConfig(domain, stage);
      const profile = stage === productionStage ? profiles.production : profiles.other;
      expect(config.database, stage).toEqual(profile.database);
      expect(config.nat, stage).toBe(profile.nat);
    }
    expect(profiles.production.database).toEqual({
      multiAz: true,
      finalSnapshot: true,
      deletionProtection: true,
    });
    expect(profiles.production.nat).toBe("managed");
    const ec2 = readDeployConfig({ ...domain, PREGON_NAT: "ec2" }, productionStage);
    expect(ec2.config.nat).toBe("ec2");
    expect(readDeployConfig({ ...domain, PREGON_NAT: "gateway" }, "dev").problems).toEqual([
      'PREGON_NAT: "managed" (a NAT gateway per AZ) or "ec2" (an fck-nat instance per AZ)',
    ]);
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
  const runs: Record<string, [string, Record<string, string>]> = {
    /** A first deploy of production with nothing but the domain. */
    production: [productionStage, domain],
    /** A developer's stage, with the same environment. */
    dev: ["dev", domain],
    /** Production asked for DMARC, to set the account's SMS preferences, and CORS for a console. */
    asked: [
      productionStage,
      {
        ...domain,
        PREGON_CORS_ORIGINS: "https://console.acme.example, http://localhost:5173",
        PREGON_EMAIL_DMARC: "v=DMARC1; p=none;",
        PREGON_SMS_PREFERENCES_STAGE: productionStage,
        PREGON_SMS_MONTHLY_SPEND_LIMIT: "50",
        PREGON_SMS_DELIVERY_STATUS_LOGS: "true",
        PREGON_SMS_SENDER_ID: "Acme",
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
          const [stage, env] = runs[name]!;
          plans[name] = await planInfra(stage, env);
        }),
      );
    }
  }, 240_000);

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
        DocsAssetsFunction: functions.docsAssets.trigger.maxConcurrency,
        SweeperHandlerFunction: functions.sweeper.trigger.maxConcurrency,
        MigratorFunction: functions.migrator.trigger.maxConcurrency,
      });
    });

    it("dev reserves nothing (a new account's quota of 10 has nothing to reserve)", () => {
      expect(reservedOf(plans.dev!)).toEqual({});
    });

    it("every stage throttles every route: http's by default, each OTP route tighter, on as many routes as counted", () => {
      const { http, otp, docsAssets } = functions;
      const settings = (throttle: Throttle) => ({
        throttlingBurstLimit: throttle.burstLimit,
        throttlingRateLimit: throttle.rateLimitPerSecond,
      });
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const inputs = stage(plan).inputs;
        expect(inputs.defaultRouteSettings, name).toEqual(settings(http.trigger.throttle));
        expect(inputs.routeSettings, name).toEqual(
          [otp, docsAssets].flatMap(({ trigger }) =>
            trigger.routes.map((routeKey) => ({ routeKey, ...settings(trigger.throttle) })),
          ),
        );
        const routes = created(plan, "aws:apigatewayv2/route:Route");
        expect(routes.map((r) => r.inputs.routeKey).sort(), name).toEqual(
          [...http.trigger.routes, ...otp.trigger.routes, ...docsAssets.trigger.routes].sort(),
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
    it("GET /docs/assets/… reaches a function of its own, whose zip carries the script and nothing of the app", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const docs = one(plan, "aws:lambda/function:Function", "DocsAssetsFunction");
        const routes = created(plan, "aws:apigatewayv2/route:Route").filter((route) =>
          (route.inputs.routeKey as string).includes("/docs/assets/"),
        );
        expect(routes.map((route) => route.inputs.routeKey)).toEqual(["GET /docs/assets/{proxy+}"]);
        const integration = one(
          plan,
          "aws:apigatewayv2/integration:Integration",
          routes[0]!.name.replace(/Route$/, "Integration"),
        );
        expect(integration.inputs.integrationUri, name).toBe(docs.attributes.arn);
        // It reads no link and sits in no VPC: nothing but the file.
        expect(docs.inputs.vpcConfig, name).toBeUndefined();
        expect(Object.keys(env(docs)).sort(), name).toEqual(["SST_KEY_FILE", "SST_RESOURCE_App"]);
        expect(plan.zips.DocsAssetsCode, name).toContain("docs-assets/standalone.js");
        expect(plan.zips.HttpCode, name).not.toContain("docs-assets/standalone.js");
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
          if (build === "DocsAssets") {
            expect(plan.builds[build]!.links, build).toEqual({});
            continue;
          }
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
        // The API reference's script needs no migration: it does not wait for one.
        for (const fn of lambdas(plan)) {
          expect(waits(fn), `${name} ${fn.name}`).toBe(
            !["MigratorFunction", "DocsAssetsFunction"].includes(fn.name),
          );
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
        DocsAssetsRole: "docsAssets",
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

    it("no function may use a wildcard action; `*` only for sns:Publish to phone numbers and ses:GetAccount", () => {
      for (const name of ["production", "dev", "asked"]) {
        for (const [fn, { statements, role }] of Object.entries(policies(plans[name]!))) {
          for (const statement of statements) {
            expect(statement.effect, fn).toBe("Allow");
            for (const action of statement.actions) {
              expect(action, `${name} ${fn}`).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
            }
            if (statement.resources.includes("*")) {
              expect(`${fn} ${statement.actions.join(",")}`, name).toMatch(
                /^(smsSender sns:Publish|emailSender ses:GetAccount)$/,
              );
              expect(statement.resources, fn).toEqual(["*"]);
            }
          }
          // The API reference's script sits outside the VPC: it needs no network interfaces.
          expect(role.inputs.managedPolicyArns, fn).toEqual(
            fn === "docsAssets" ? managed.slice(0, 1) : managed,
          );
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
      }
    });

    it("each resource is the one the function uses: its topics, the bucket's objects, the SES identity and set, its queue, the key", () => {
      for (const name of ["production", "dev"]) {
        const plan = plans[name]!;
        const arn = (type: string, resource: string) =>
          one(plan, type, resource).attributes.arn as string;
        const topics = ["Email", "Sms", "Push", "Events"].map((t) =>
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
        feedback: "feedback",
        sweeper: "Sweeper",
        migrator: "Migrator",
        docsAssets: "DocsAssets",
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
    it("SST builds every function for nodejs22.x with no `sourcemap` argument and no esbuild target of ours", () => {
      const builds = Object.entries(plans.production!.builds);
      expect(builds).toHaveLength(all.length);
      for (const [id, { runtime: built, properties }] of builds) {
        expect(built, id).toBe("nodejs22.x");
        expect(properties.sourcemap, id).toBeUndefined();
        expect((properties.esbuild as { target?: string }).target, id).toBeUndefined();
      }
    });

    it("no zip carries a map: SST uploads each beside the code, and keeps it", () => {
      const plan = plans.production!;
      const zips = Object.entries(plan.zips);
      expect(zips).toHaveLength(all.length);
      for (const [object, entries] of zips) {
        expect(entries, object).toContain("bundle.mjs");
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
  });
});
