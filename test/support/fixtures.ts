import { randomUUID } from "node:crypto";
import { Actor, ApiKey, Project } from "@pregon/core";
import postgres from "postgres";
import { ownerUrl } from "./setup";

/** Runs `work` as a sender runs it (core called as a channel's queue consumer would). */
export const asSender = <T>(work: () => T) =>
  Actor.provide({ type: "system", reason: "sender" }, work);

/** Runs `work` as an operator of `projectId` (the CLI's actor). */
export const inProject = <T>(projectId: string, work: () => T) =>
  Actor.provide({ type: "system", reason: "cli", projectId }, work);

/**
 * A fresh project with a key holding the given scopes, and `as`, which runs core code as a request
 * made with that key (the actor the API gives it).
 */
export async function projectWithKey(scopes: ApiKey.Scope[] = ["admin"]) {
  const project = await Project.create(`project-${randomUUID()}`);
  const key = await inProject(project.id, () => ApiKey.create({ name: "test", scopes }));
  const as = <T>(work: () => T) =>
    Actor.provide(
      { type: "key", projectId: project.id, keyId: key.id, scopes, requestId: randomUUID() },
      work,
    );
  return { project, key, secret: key.secret, as };
}

export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** The API settings tests run with. */
export const settings = {
  email: { from: "Pregón <no-reply@pregon.test>", senders: ["@pregon.test"] },
  sms: { countries: ["ES", "MX", "US"] },
};

/**
 * The environment a Lambda entry point gets on AWS (infra/ sets it; SST encodes links as
 * SST_RESOURCE_*), pointed at this file's local pipelines and the local SES.
 */
export function lambdaEnvironment(
  topics: Record<string, string>,
  aws: { endpoint: string; region: string },
  mailboxUrl: string,
) {
  process.env.PREGON_EMAIL_FROM = settings.email.from;
  process.env.PREGON_EMAIL_SENDERS = settings.email.senders.join(",");
  process.env.AWS_REGION = aws.region;
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
  process.env.AWS_ENDPOINT_URL_SNS = aws.endpoint;
  process.env.AWS_ENDPOINT_URL_SESV2 = mailboxUrl;
  process.env.PREGON_OTP_PEPPER = "test-pepper-0123456789abcdefghijklmnopqrstuv";
  process.env.PREGON_PUBLIC_URL = "https://pregon.test";
  process.env.SST_RESOURCE_Templates = JSON.stringify({ name: "templates" });
  for (const [topic, arn] of Object.entries(topics)) {
    const name = `${topic[0]!.toUpperCase()}${topic.slice(1)}Topic`;
    process.env[`SST_RESOURCE_${name}`] = JSON.stringify({ arn });
  }
}

/** Polls `check` until it returns something truthy; throws after `timeoutMs`. */
export async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** A JSON request to an app (the Hono app's `request`), answered as status, headers and body. */
export async function callApp(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  secret: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await app.request(path, {
    method,
    headers: {
      ...bearer(secret),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/**
 * Runs `work` while Postgres refuses to insert rows of `projectId` into `table` (a failure half-way
 * through a transaction).
 */
export function refusingInserts<T>(
  table: string,
  projectId: string,
  work: () => Promise<T>,
): Promise<T> {
  return refusingWrites(table, "insert", `new.project_id = '${projectId}'`, work);
}

/**
 * Runs `work` while Postgres refuses every `on` of a row of `table` for which `when` (a plpgsql
 * condition on `new`, and `old` for an update) holds. Triggers are the owner's to create, not the
 * application role's.
 */
export async function refusingWrites<T>(
  table: string,
  on: "insert" | "update",
  when: string,
  work: () => Promise<T>,
): Promise<T> {
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  const name = `refuse_${table}_${on}`;
  try {
    await owner.unsafe(`
      create function ${name}() returns trigger language plpgsql as $$
        begin
          if ${when} then raise exception 'refused by the test'; end if;
          return new;
        end $$;
      create trigger ${name} before ${on} on ${table} for each row execute function ${name}();`);
    return await work();
  } finally {
    await owner.unsafe(`drop function if exists ${name}() cascade`);
    await owner.end();
  }
}
