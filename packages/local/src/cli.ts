import { parseArgs } from "node:util";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  Actor,
  ApiKey,
  AppError,
  Database,
  Email,
  Issuer,
  Migrations,
  Notification,
  Outbox,
  Project,
  RateLimit,
  Region,
  Reputation,
  snsPublisher,
} from "@pregon/core";
import { linkedTopicArns } from "@pregon/functions/config";
import { pipelines, type QueueName } from "@pregon/pipelines";
import postgres from "postgres";
import { z } from "zod";
import { prepareDatabase } from "./bootstrap";
import { type LocalConfig, loadLocalConfig } from "./config";
import * as DevIssuer from "./dev-issuer";
import * as Dlq from "./dlq";
import { startPostgres } from "./stack";

const usage = `Usage: npm run pregon -- <command> [--json]

  db migrate
  dlq list <queue> [--queue-url <url> --dlq-url <url>]
  dlq redrive <queue> [--queue-url <url> --dlq-url <url>]
  projects list
  projects create <name>
  projects limits <name or id> --channel <email|sms|push>
                  [--requests-per-minute <n>] [--recipients-per-day <n>]
  keys create --name <name> --scopes <scope,...|all> [--project <name or id>]
  keys list [--project <name or id>]
  keys revoke <key id> [--project <name or id>]
  region promote [--region <name>]
  region show
  reputation show
  reputation resume <project name or id | account>
  issuers create --issuer <url> --audience <aud> (--scope-claim <scope|scp> | --scopes <scope,...|all>)
                 [--jwks-url <url>] [--project <name or id>]
  issuers list [--project <name or id>]
  issuers remove <issuer id> [--project <name or id>]
  tokens mint [--subject <sub>] [--ttl <seconds>]
              a token of the local stack's development issuer (npm start on PORT)
  email check-domain [<domain>]
              the SPF, DKIM and DMARC records the sending domain needs (default: PREGON_EMAIL_FROM's);
              DKIM tokens read from SES under \`sst shell\`

Scopes: ${ApiKey.scopes.join(", ")}
Queues: ${pipelines.map((p) => p.queue).join(", ")}. Without URLs, the local stack's queues
(npm start running); with them, the queues they name (AWS credentials from the environment).
\`region promote\` publishes to the stage's topics under \`sst shell\`, else to the local stack's; the
region defaults to AWS_REGION (docs/operations.md, "Failover").
The project defaults to "default". The database is DATABASE_URL when set (a deployed one, say);
otherwise the local stack's Postgres, started for the command when \`npm start\` is not running.`;

class UsageError extends Error {}

/** The queue and its DLQ: the URLs given (AWS), or the local stack's by name. */
async function queueUrls(
  queue: QueueName,
  given: { queueUrl?: string | undefined; dlqUrl?: string | undefined },
) {
  if (given.queueUrl && given.dlqUrl) {
    // An endpoint set in the environment (an emulator) is used as such, not the URLs' hosts.
    const endpoint = process.env.AWS_ENDPOINT_URL_SQS;
    const sqs = new SQSClient(endpoint ? { endpoint } : {});
    return { sqs, urls: { queueUrl: given.queueUrl, dlqUrl: given.dlqUrl } };
  }
  const config = loadLocalConfig();
  const sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${config.awsPort}`,
    region: config.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const url = async (name: string) =>
    (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  return {
    sqs,
    urls: { queueUrl: await url(`pregon-${queue}`), dlqUrl: await url(`pregon-${queue}-dlq`) },
  };
}

/**
 * What `region promote` publishes with: the stage's topics where `sst shell` links them (the SDK's
 * region and credentials from the environment), else the local stack's (npm start running).
 */
async function publisher(config: LocalConfig): Promise<Outbox.Publisher> {
  try {
    return snsPublisher(new SNSClient({}), linkedTopicArns());
  } catch {
    // Not under `sst shell`: the local stack.
  }
  const sns = new SNSClient({
    endpoint: `http://127.0.0.1:${config.awsPort}`,
    region: config.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const topics = {} as Record<Outbox.Topic, string>;
  for (const { topic } of pipelines) {
    if (topic === "feedback") continue; // SES publishes there, never Pregón
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `pregon-${topic}` }));
    topics[topic] = TopicArn!;
  }
  return snsPublisher(sns, topics);
}

async function reachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function withDatabase<T>(config: LocalConfig, run: (url: string) => Promise<T>): Promise<T> {
  let url = config.databaseUrl;
  let stop: (() => Promise<unknown>) | undefined;
  if (!url) {
    const running = `postgres://postgres:postgres@127.0.0.1:${config.pgPort}/pregon`;
    if (await reachable(running)) {
      url = running;
    } else {
      const pg = await startPostgres({ dataDir: config.dataDir, port: config.pgPort });
      stop = pg.stop;
      url = pg.url;
      await prepareDatabase(url);
    }
  }
  Database.configure({ url, max: 1 });
  try {
    return await run(url);
  } finally {
    await Database.close();
    await stop?.();
  }
}

async function findProject(ref: string | undefined): Promise<Project.Info> {
  if (!ref) return Project.ensure(Project.defaultName);
  const project = Database.isUuid(ref) ? await Project.get(ref) : await Project.findByName(ref);
  if (!project) throw new AppError("not_found", `Project "${ref}" not found`);
  return project;
}

/** Runs `work` as the CLI acting inside `project` (what core's project-scoped functions read). */
const inProject = <T>(project: Project.Info, work: () => Promise<T>) =>
  Actor.provide({ type: "system", reason: "cli", projectId: project.id }, work);

function parseScopes(list: string | undefined): ApiKey.Scope[] {
  if (!list) throw new UsageError(`--scopes is required (${ApiKey.scopes.join(", ")} or all)`);
  if (list === "all") return [...ApiKey.scopes];
  return list.split(",").map((scope) => {
    const parsed = ApiKey.Scope.safeParse(scope.trim());
    if (!parsed.success) throw new UsageError(`Unknown scope "${scope}"`);
    return parsed.data;
  });
}

const describeIssuer = (issuer: Issuer.Info) =>
  `${issuer.id}  ${issuer.issuer}  aud=${issuer.audience}  ${issuer.scopes ? `[${issuer.scopes.join(" ")}]` : `scopes from '${issuer.scopeClaim}'`}`;

const describeKey = (key: ApiKey.Info) =>
  `${key.id}  ${key.hint}  ${key.revokedAt ? "revoked" : "active "}  ${key.name}  [${key.scopes.join(" ")}]`;

type Output = { text: string; data: unknown };

/** Parses a command line into the work it asks for; bad usage fails here, before any database. */
function command(args: string[]): (databaseUrl: string, config: LocalConfig) => Promise<Output> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      scopes: { type: "string" },
      project: { type: "string" },
      channel: { type: "string" },
      "requests-per-minute": { type: "string" },
      "recipients-per-day": { type: "string" },
      "queue-url": { type: "string" },
      "dlq-url": { type: "string" },
      region: { type: "string" },
      issuer: { type: "string" },
      audience: { type: "string" },
      "jwks-url": { type: "string" },
      "scope-claim": { type: "string" },
      subject: { type: "string" },
      ttl: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [group, verb, arg] = positionals;
  switch (`${group} ${verb}`) {
    case "db migrate":
      return async (databaseUrl, config) => {
        // Under `sst shell` the owner is linked apart and DATABASE_URL is the application role;
        // otherwise the URL is the owner's and the role's password derives from it.
        const owner = config.databaseOwnerUrl ?? databaseUrl;
        const app = config.databaseOwnerUrl
          ? Database.credentialsOf(databaseUrl)
          : Database.derivedCredentials(owner);
        await Migrations.apply(owner, app);
        return { data: { migrated: true }, text: "Migrations applied" };
      };
    case "projects list":
      return async () => {
        const projects = await Project.list();
        return { data: projects, text: projects.map((p) => `${p.id}  ${p.name}`).join("\n") };
      };
    case "projects create": {
      if (!arg) throw new UsageError("projects create <name>");
      return async () => {
        const project = await Project.create(arg);
        return { data: project, text: `Created project ${project.name} (${project.id})` };
      };
    }
    case "dlq list":
    case "dlq redrive": {
      const queue = pipelines.find((p) => p.queue === arg)?.queue;
      if (!queue) throw new UsageError(`dlq ${verb} <${pipelines.map((p) => p.queue).join("|")}>`);
      const given = { queueUrl: values["queue-url"], dlqUrl: values["dlq-url"] };
      if (Boolean(given.queueUrl) !== Boolean(given.dlqUrl)) {
        throw new UsageError("--queue-url and --dlq-url go together");
      }
      return async () => {
        const { sqs, urls } = await queueUrls(queue, given);
        if (verb === "list") {
          const parked = await Dlq.list(sqs, urls.dlqUrl);
          const lines = parked.map(
            (m) => `${m.messageId}  receives=${m.receiveCount}  ${m.sentAt}  ${m.body}`,
          );
          return { data: parked, text: lines.join("\n") || `The ${queue} DLQ is empty` };
        }
        const result = await Dlq.redrive(sqs, queue, urls);
        return {
          data: result,
          text: `Moved ${result.moved} message(s) back to ${queue}; ${result.requeued} delivery(ies) queued again`,
        };
      };
    }
    case "projects limits": {
      const channel = Notification.Channel.safeParse(values.channel);
      if (!arg || !channel.success) {
        throw new UsageError("projects limits <name or id> --channel <email|sms|push> ...");
      }
      const count = (flag: string, value: string | undefined) => {
        if (value === undefined) return undefined;
        const parsed = z.coerce.number().int().positive().safeParse(value);
        if (!parsed.success) throw new UsageError(`--${flag} must be a positive whole number`);
        return parsed.data;
      };
      const changes = {
        requestsPerMinute: count("requests-per-minute", values["requests-per-minute"]),
        recipientsPerDay: count("recipients-per-day", values["recipients-per-day"]),
      };
      return async () => {
        const project = await findProject(arg);
        const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
        const current = await RateLimit.limitsOf(project.id, channel.data);
        await RateLimit.setLimits(project.id, channel.data, { ...current, ...set });
        const limits = await RateLimit.limitsOf(project.id, channel.data);
        return {
          data: limits,
          text: `${project.name} ${channel.data}: ${limits.requestsPerMinute} requests/minute, ${limits.recipientsPerDay} recipients/day`,
        };
      };
    }
    case "keys create": {
      const name = values.name;
      if (!name) throw new UsageError("--name is required");
      const scopes = parseScopes(values.scopes);
      return async () => {
        const project = await findProject(values.project);
        const key = await inProject(project, () => ApiKey.create({ name, scopes }));
        return {
          data: key,
          text: `Created key ${key.id} "${key.name}" in project ${project.name} [${key.scopes.join(" ")}]\n\n  ${key.secret}\n\nStore it now: only its SHA-256 is kept, it cannot be shown again.`,
        };
      };
    }
    case "keys list":
      return async () => {
        const keys = await inProject(await findProject(values.project), () => ApiKey.list());
        return { data: keys, text: keys.map(describeKey).join("\n") || "No keys" };
      };
    case "keys revoke": {
      if (!arg) throw new UsageError("keys revoke <key id>");
      return async () => {
        const key = await inProject(await findProject(values.project), () => ApiKey.revoke(arg));
        return { data: key, text: `Revoked ${describeKey(key)}` };
      };
    }
    case "region promote":
      return async (_url, config) => {
        const region = values.region ?? config.region;
        Outbox.configure(await publisher(config));
        const result = await Region.promote(region);
        const what = `${result.requeued} abandoned delivery(ies) and ${result.republished} queued one(s) put on ${region}'s queues, ${result.endpointsForgotten} push endpoint(s) forgotten`;
        return {
          data: result,
          text: result.again
            ? `${region} was already promoted at ${result.promotedAt}: ${what} since`
            : `${region} promoted at ${result.promotedAt}: ${what}`,
        };
      };
    case "region show":
      return async () => {
        const latest = await Region.current();
        return {
          data: latest ?? null,
          text: latest
            ? `${latest.region} since ${latest.promotedAt}`
            : "No promotion recorded: the region first deployed sends",
        };
      };
    case "reputation show":
      return async () => {
        const [pauses, measured] = await Promise.all([Reputation.pauses(), Reputation.measure()]);
        const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
        const line = (p: Reputation.Pause) =>
          `${p.resumedAt ? "resumed" : "PAUSED "}  ${p.scope}  bounces ${percent(p.bounceRate)}  complaints ${percent(p.complaintRate)} of ${p.sent}  at ${p.pausedAt}`;
        const { account } = measured;
        return {
          data: { pauses, account },
          text: [
            `Account, this window: ${account.sent} sent, bounces ${percent(account.bounceRate)}, complaints ${percent(account.complaintRate)}`,
            ...(pauses.length ? pauses.map(line) : ["No pause recorded"]),
          ].join("\n"),
        };
      };
    case "reputation resume": {
      if (!arg) throw new UsageError("reputation resume needs a project (name or id) or account");
      return async () => {
        const scope = arg === Reputation.account ? arg : (await findProject(arg)).id;
        const resumed = await Reputation.resume(scope);
        return {
          data: { scope, resumed },
          text: resumed ? `Bulk email resumed for ${arg}` : `No pause stood for ${arg}`,
        };
      };
    }
    case "issuers create": {
      const parsed = Issuer.CreateInput.safeParse({
        issuer: values.issuer,
        audience: values.audience,
        jwksUrl: values["jwks-url"],
        scopeClaim: values["scope-claim"],
        scopes: values.scopes === undefined ? undefined : parseScopes(values.scopes),
      });
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`);
        throw new UsageError(issues.join("\n"));
      }
      return async () => {
        const issuer = await inProject(await findProject(values.project), () =>
          Issuer.create(parsed.data),
        );
        return { data: issuer, text: `Trusting ${describeIssuer(issuer)}` };
      };
    }
    case "issuers list":
      return async () => {
        const issuers = await inProject(await findProject(values.project), () => Issuer.list());
        return { data: issuers, text: issuers.map(describeIssuer).join("\n") || "No issuers" };
      };
    case "issuers remove": {
      if (!arg) throw new UsageError("issuers remove <issuer id>");
      return async () => {
        const issuer = await inProject(await findProject(values.project), () => Issuer.remove(arg));
        return { data: issuer, text: `No longer trusting ${describeIssuer(issuer)}` };
      };
    }
    default:
      throw new UsageError(group ? `Unknown command "${positionals.join(" ")}"` : "");
  }
}

/** `tokens mint`: signs with the development issuer's key in the data directory, no database. */
async function mintToken(args: string[], config: LocalConfig): Promise<Output> {
  const { values } = parseArgs({
    args,
    allowPositionals: true,
    options: { subject: { type: "string" }, ttl: { type: "string" }, json: { type: "boolean" } },
  });
  const ttl = z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .safeParse(values.ttl ?? 3600);
  if (!ttl.success) throw new UsageError("--ttl must be 1 to 86400 seconds");
  const subject = values.subject ?? "dev";
  const token = await DevIssuer.mint({
    dataDir: config.dataDir,
    port: config.port,
    subject,
    ttlSeconds: ttl.data,
  });
  return { data: { token, issuer: DevIssuer.issuerUrl(config.port), subject }, text: token };
}

/** `email check-domain`: from SES under `sst shell` (the stage's identity), else what can be known. */
async function checkDomain(args: string[], config: LocalConfig): Promise<Output> {
  const { positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" } },
  });
  const from = Email.parseMailbox(config.email.from)!.address;
  const domain = (positionals[0] ?? from.slice(from.indexOf("@") + 1)).toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) {
    throw new UsageError(`"${domain}" is not a domain name`);
  }
  let onAws = true;
  try {
    linkedTopicArns();
  } catch {
    onAws = false;
  }
  const identity = onAws ? await Email.sesIdentity(new SESv2Client({}), domain) : undefined;
  const check = Email.domainRecords(domain, identity);
  const senders = config.email.senders;
  if (!senders.includes(`@${domain}`) && !senders.some((s) => s.endsWith(`@${domain}`))) {
    check.notes.unshift(`${domain} is not among the configured senders (${senders.join(", ")}).`);
  }
  const lines = check.records.map((r) => `${r.kind.padEnd(5)}  ${r.name}  ${r.type}  ${r.value}`);
  return {
    data: { domain, source: onAws ? "ses" : "local", ...check },
    text: [
      `Records for ${domain} (${onAws ? "from SES" : "local stack: SES not asked"}):`,
      ...lines,
      "",
      ...check.notes,
    ].join("\n"),
  };
}

async function main(args: string[]): Promise<number> {
  const json = args.includes("--json");
  try {
    if (args[0] === "tokens" && args[1] === "mint") {
      const { text, data } = await mintToken(args.slice(2), loadLocalConfig());
      process.stdout.write(`${json ? JSON.stringify(data, null, 2) : text}\n`);
      return 0;
    }
    if (args[0] === "email" && args[1] === "check-domain") {
      const { text, data } = await checkDomain(args.slice(2), loadLocalConfig());
      process.stdout.write(`${json ? JSON.stringify(data, null, 2) : text}\n`);
      return 0;
    }
    const work = command(args);
    const config = loadLocalConfig();
    Issuer.configure({ allowLoopback: config.jwtAllowLoopback });
    const { text, data } = await Actor.provide({ type: "system", reason: "cli" }, () =>
      withDatabase(config, (url) => work(url, config)),
    );
    process.stdout.write(`${json ? JSON.stringify(data, null, 2) : text}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `${error.message}\n\n` : ""}${usage}\n`);
      return 2;
    }
    process.stderr.write(`pregon: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
