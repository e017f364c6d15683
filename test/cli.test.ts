import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createApp } from "@pregon/api";
import { ApiKey, Clock, Database } from "@pregon/core";
import { declarePipelines, freePort } from "@pregon/local/stack";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";
import { databaseUrl, ownerUrl, stack } from "./support/setup";

const root = join(import.meta.dirname, "..");

/**
 * `npm run pregon -- <args>`, against this test file's database, as `sst shell` links a stage's:
 * the application role in DATABASE_URL, the owner apart (for `db migrate`).
 */
const pregon = (...args: string[]) =>
  pregonWith({ DATABASE_URL: databaseUrl, PREGON_DATABASE_OWNER_URL: ownerUrl }, ...args);

async function pregonWith(env: Record<string, string>, ...args: string[]) {
  const { DATABASE_URL: _ours, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(
      "npm",
      ["run", "-s", "pregon", "--", ...args],
      { cwd: root, env: { ...inherited, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe("npm run pregon -- keys", () => {
  it("creates, lists and revokes keys of a project", async () => {
    // Already migrated from the template: applying again is a no-op.
    expect(await pregon("db", "migrate")).toMatchObject({
      code: 0,
      stdout: "Migrations applied\n",
    });
    expect((await pregon("projects", "create", "cli-project")).code).toBe(0);
    const created = await pregon(
      "keys",
      "create",
      "--name",
      "deploy",
      "--scopes",
      "emails:send,otp:send",
      "--project",
      "cli-project",
      "--json",
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ name: "deploy", scopes: ["emails:send", "otp:send"] });
    expect(await ApiKey.authenticate(key.secret)).toMatchObject({ keyId: key.id });

    const listed = await pregon("keys", "list", "--project", "cli-project");
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).toContain("active");
    expect(listed.stdout).not.toContain(key.secret);

    // Another project cannot revoke it.
    const elsewhere = await pregon("keys", "revoke", key.id);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/not found/);

    const limits = await pregon(
      "projects",
      "limits",
      "cli-project",
      "--channel",
      "email",
      "--requests-per-minute",
      "5",
    );
    expect(limits.stdout).toMatch(/^cli-project email: 5 requests\/minute, 100000 recipients\/day/);
    expect((await pregon("projects", "limits", "cli-project", "--channel", "fax")).code).toBe(2);

    const revoked = await pregon("keys", "revoke", key.id, "--project", "cli-project");
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain("revoked");
    // Revoked by another process: this one may answer the key from memory for a few seconds more.
    const restore = Clock.use(
      Clock.manual(new Date(Date.now() + ApiKey.acceptanceMemory.ttlMs + 1_000)),
    );
    try {
      await expect(ApiKey.authenticate(key.secret)).rejects.toMatchObject({
        reason: "api_key_revoked",
      });
    } finally {
      restore();
    }
  }, 60_000);

  it("starts the local Postgres for the command when npm start is not running", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pregon-cli-"));
    const env = { PREGON_DATA_DIR: dataDir, PREGON_PG_PORT: String(await freePort()) };
    const created = await pregonWith(
      env,
      "keys",
      "create",
      "--name",
      "local",
      "--scopes",
      "all",
      "--json",
    );
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout);
    // The data stays for the next command (and the next `npm start`); Postgres does not.
    const listed = await pregonWith(env, "keys", "list");
    expect(listed.stdout).toContain(id);
    expect(existsSync(join(dataDir, "pg", "postmaster.pid"))).toBe(false);
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("trusts, lists and removes token issuers of a project, and mints development tokens", async () => {
    const issuer = "http://127.0.0.1:9/issuer";
    const created = await pregon(
      "issuers",
      "create",
      "--issuer",
      issuer,
      "--audience",
      "cli",
      "--scopes",
      "emails:send",
      "--json",
    );
    expect(created.code).toBe(0);
    const trusted = JSON.parse(created.stdout);
    expect(trusted).toMatchObject({ issuer, audience: "cli", scopes: ["emails:send"] });
    expect((await pregon("issuers", "list")).stdout).toContain(trusted.id);
    // Loopback is the local stack's alone: with the setting off, the URL is refused.
    const refused = await pregonWith(
      { DATABASE_URL: databaseUrl, PREGON_JWT_ALLOW_LOOPBACK: "false" },
      ...["issuers", "create", "--issuer", issuer, "--audience", "other", "--scopes", "admin"],
    );
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/only HTTPS/) });
    expect((await pregon("issuers", "remove", trusted.id)).stdout).toContain("No longer trusting");

    const dataDir = await mkdtemp(join(tmpdir(), "pregon-cli-"));
    const minted = await pregonWith(
      { PREGON_DATA_DIR: dataDir, PORT: "4321" },
      ...["tokens", "mint", "--subject", "me", "--ttl", "60"],
    );
    expect(minted.code).toBe(0);
    const [header, payload] = minted.stdout.trim().split(".");
    const decode = (part: string | undefined) =>
      JSON.parse(Buffer.from(part!, "base64url").toString());
    expect(decode(header)).toMatchObject({ alg: "ES256", kid: "dev" });
    const claims = decode(payload);
    expect(claims).toMatchObject({
      iss: "http://127.0.0.1:4321/dev/issuer",
      aud: "pregon",
      sub: "me",
    });
    expect(claims.exp - claims.iat).toBe(60);
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("explains bad usage with exit code 2", async () => {
    const missing = await pregon("keys", "create", "--name", "x");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--scopes is required");
    const unknown = await pregon("keys", "create", "--name", "x", "--scopes", "emails:sned");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown scope "emails:sned"');
  }, 60_000);
});

describe("npm run pregon -- region promote", () => {
  it("puts the queued deliveries on the local stack's queues once, however often it runs", async () => {
    // The local stack's pipelines (`pregon-*`), in the test run's emulator: where the CLI publishes
    // outside `sst shell`.
    const local = await declarePipelines(stack.aws, "pregon");
    const sqs = new SQSClient(stack.aws);
    const onEmailQueue = async () => {
      const ids: string[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: local.queues.email.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        if (!Messages.length) return ids.sort();
        for (const message of Messages) ids.push(...JSON.parse(message.Body!).deliveryIds);
      }
    };
    // Accepted while the old region sent: its message went to that region's queue (this file's).
    const { secret } = await projectWithKey(["admin"]);
    const domain = uniqueDomain();
    const accepted = await callApp(createApp(settings), secret, "POST", "/v1/emails", {
      to: [`a@${domain}`, `b@${domain}`],
      subject: "s",
      text: "t",
    });
    expect(accepted.status).toBe(202);
    const queued = (
      await Database.use().execute<{ id: string }>(
        sql`select id from deliveries where notification_id = ${accepted.body.id} order by id`,
      )
    ).map((row) => row.id);
    expect(queued).toHaveLength(2);

    const env = {
      DATABASE_URL: databaseUrl,
      PREGON_AWS_PORT: new URL(stack.aws.endpoint).port,
      AWS_REGION: stack.aws.region,
    };
    const promote = () => pregonWith(env, "region", "promote", "--region", "eu-west-1", "--json");
    const first = await promote();
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ region: "eu-west-1", again: false });
    expect(await onEmailQueue()).toEqual(queued);

    const second = await promote();
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ again: true, republished: 0, requeued: 0 });
    expect(await onEmailQueue()).toEqual([]);

    const shown = await pregonWith(env, "region", "show");
    expect(shown.stdout).toMatch(/^eu-west-1 since \d{4}-/);
  }, 60_000);
});

describe("npm run pregon -- email check-domain", () => {
  it("prints the DMARC record and says locally that DKIM and SPF alignment are SES's to know", async () => {
    const local = await pregonWith({}, "email", "check-domain", "example.com", "--json");
    expect(local.code).toBe(0);
    const out = JSON.parse(local.stdout);
    expect(out).toMatchObject({ domain: "example.com", source: "local" });
    expect(out.records).toEqual([
      {
        kind: "DMARC",
        name: "_dmarc.example.com",
        type: "TXT",
        value: '"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"',
      },
    ]);
    expect(out.notes.join("\n")).toContain("DKIM: unknown here");
    expect(await pregonWith({}, "email", "check-domain", "not a domain")).toMatchObject({
      code: 2,
    });
  }, 60_000);
});
