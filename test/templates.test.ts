import { S3Client } from "@aws-sdk/client-s3";
import { createApp } from "@pregon/api";
import { Database, Email, Notification, Otp, Template } from "@pregon/core";
import { s3Store } from "@pregon/core/template/s3";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { leaseMs, templatesBucket } from "@pregon/pipelines";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { acknowledge, event, mailbox, mailer, receiveAll, uniqueDomain } from "./support/email";
import { asSender, callApp, inProject, projectWithKey, settings } from "./support/fixtures";
import { stack } from "./support/setup";

const app = createApp(settings);
const sender = createEmailSender({ mailer, sendRate: 5000 });

// Counts the objects read from S3, to see the sender's cache at work.
const reads: string[] = [];
const s3 = s3Store(new S3Client({ ...stack.aws, forcePathStyle: true }), templatesBucket);
Template.configure({
  put: (key, body) => s3.put(key, body),
  get: (key) => {
    reads.push(key);
    return s3.get(key);
  },
});

const call = (secret: string, method: string, path: string, body?: unknown) =>
  callApp(app, secret, method, path, body);

const writer = () =>
  projectWithKey(["templates:write", "templates:read", "emails:send", "notifications:read"]);

describe("templates", () => {
  it("stores versions in S3, lists them and renders a preview", async () => {
    const { secret } = await writer();
    const first = await call(secret, "PUT", "/v1/templates/welcome", {
      subject: "Welcome {{ name }}",
      html: "<p>Hi {{ name }}</p>",
      text: "Hi {{ name }}",
    });
    expect(first).toMatchObject({ status: 200, body: { key: "welcome", locale: "default" } });
    const second = await call(secret, "PUT", "/v1/templates/welcome", {
      subject: "Welcome back {{ name }}",
      html: "<p>Hello {{ name }}</p>",
    });
    expect(second.body.version).not.toBe(first.body.version);

    const got = await call(secret, "GET", "/v1/templates/welcome");
    expect(got.body).toMatchObject({
      version: second.body.version,
      subject: "Welcome back {{ name }}",
    });
    expect(got.body.text).toBeUndefined();
    // The first version is still there, untouched.
    expect(await Template.load(first.body.version)).toMatchObject({
      subject: "Welcome {{ name }}",
    });

    const listed = await call(secret, "GET", "/v1/templates");
    expect(listed.body.templates).toEqual([
      {
        key: "welcome",
        locale: "default",
        version: second.body.version,
        updatedAt: expect.any(String),
      },
    ]);
    const preview = await call(secret, "POST", "/v1/templates/welcome/preview", {
      variables: { name: "<Ana>" },
    });
    expect(preview.body).toMatchObject({
      subject: "Welcome back <Ana>",
      html: "<p>Hello &lt;Ana&gt;</p>",
    });
  });

  it("falls back from es-MX to es to the default version", async () => {
    const { secret } = await writer();
    const put = (locale: string | undefined, subject: string) =>
      call(secret, "PUT", "/v1/templates/code", { subject, html: "x", ...(locale && { locale }) });
    await put(undefined, "Your code");
    await put("es", "Tu código");
    const subjectFor = async (locale: string) =>
      (await call(secret, "GET", `/v1/templates/code?locale=${locale}`)).body.subject;
    expect(await subjectFor("es-MX")).toBe("Tu código");
    expect(await subjectFor("es")).toBe("Tu código");
    expect(await subjectFor("fr")).toBe("Your code");
    await put("es-MX", "Tu código, güey");
    expect(await subjectFor("es-MX")).toBe("Tu código, güey");
    expect(await subjectFor("es-AR")).toBe("Tu código");
  });

  it("confines keys to the project: no '..', no slashes, no URLs; another project's are 404", async () => {
    const { secret } = await writer();
    const body = { subject: "s", html: "h" };
    // A bare ".." never reaches the route: the URL itself normalises it away.
    expect((await call(secret, "PUT", "/v1/templates/..", body)).status).toBe(404);
    for (const key of [
      "..%2Fother",
      "a..b",
      "a%2Fb",
      "https%3A%2F%2Fevil.example%2Fx",
      ".hidden",
    ]) {
      const response = await call(secret, "PUT", `/v1/templates/${key}`, body);
      expect(response.status, key).toBe(400);
      expect(response.body.issues[0].path).toEqual(["key"]);
    }
    expect((await call(secret, "PUT", "/v1/templates/mine", body)).status).toBe(200);
    const other = await writer();
    expect((await call(other.secret, "GET", "/v1/templates/mine")).body).toMatchObject({
      code: "NOT_FOUND",
      reason: "template_not_found",
    });
  });

  it("refuses a template that does not compile, and a send of a missing one, before storing", async () => {
    const { secret, project } = await writer();
    const bad = await call(secret, "PUT", "/v1/templates/broken", {
      subject: "s",
      html: "{% if %}",
    });
    expect(bad).toMatchObject({ status: 400, body: { reason: "invalid_template" } });
    const missing = await call(secret, "POST", "/v1/emails", {
      to: ["a@x.example"],
      template: { key: "nowhere" },
    });
    expect(missing).toMatchObject({ status: 404, body: { reason: "template_not_found" } });
    const both = await call(secret, "POST", "/v1/emails", {
      to: ["a@x.example"],
      template: { key: "nowhere" },
      subject: "s",
      text: "t",
    });
    expect(both.body.message).toBe("template: Give a template or inline content, not both");
    const rows = await Database.use().execute<{ count: number }>(
      sql`select count(*)::int as count from notifications where project_id = ${project.id}`,
    );
    expect(rows[0]!.count).toBe(0);
  });

  it("renders per recipient; a new version changes later sends, not queued ones; fetched once", async () => {
    const { secret, project } = await writer();
    const domain = uniqueDomain();
    const v1 = await call(secret, "PUT", "/v1/templates/receipt", {
      subject: "v1 {{ item }} for {{ name }}",
      html: "<b>{{ total }}</b>",
      text: "{{ total }}",
    });
    const to = Array.from({ length: 120 }, (_, i) => ({
      email: `r${i}@${domain}`,
      variables: { name: `R${i}` },
    }));
    const queued = await call(secret, "POST", "/v1/emails", {
      to,
      template: { key: "receipt" },
      variables: { item: "Pro", total: "10 €" },
    });
    expect(queued.status).toBe(202);
    const v2 = await call(secret, "PUT", "/v1/templates/receipt", {
      subject: "v2 {{ name }}",
      html: "new",
    });
    const later = await call(secret, "POST", "/v1/emails", {
      to: [`late@${domain}`],
      template: { key: "receipt", locale: "es-MX" },
    });
    expect(later.status).toBe(202);

    const recorded = await Database.use().execute<{ id: string; version: string }>(
      sql`select id, content->'template'->>'version' as version from notifications where project_id = ${project.id}`,
    );
    expect(Object.fromEntries(recorded.map((r) => [r.id, r.version]))).toEqual({
      [queued.body.id]: v1.body.version,
      [later.body.id]: v2.body.version,
    });

    const records = await receiveAll(4); // 120 recipients in 3 messages, and 1
    expect(await sender(event(...records))).toEqual({ batchItemFailures: [] });
    await acknowledge(records);
    const emails = await mailbox(domain);
    expect(emails).toHaveLength(121);
    const byTo = Object.fromEntries(emails.map((e) => [e.destination.to[0], e]));
    expect(byTo[`r7@${domain}`]).toMatchObject({
      subject: "v1 Pro for R7",
      body: { html: "<b>10 €</b>", text: "10 €" },
    });
    expect(byTo[`late@${domain}`]).toMatchObject({ subject: "v2 ", body: { html: "new" } });
    expect(reads.filter((key) => key === v1.body.version)).toHaveLength(1);
  });
});

/** Every way a Liquid template could name a file: each must be refused before anything renders. */
const fileReads = [
  ['{% include "package.json" %}', "include"],
  ["{%- render 'package.json' -%}", "render"],
  ['{% layout "package.json" %}x', "layout"],
  ['{% liquid\ninclude "package.json" %}', "include"],
] as const;

describe("templates read no files", () => {
  it("refuses include, render and layout in inline email content, naming the part and the tag", async () => {
    const { secret, project } = await writer();
    const domain = uniqueDomain();
    for (const [source, tag] of fileReads) {
      for (const part of ["subject", "html", "text"] as const) {
        const content = { subject: "s", html: "h", text: "t", [part]: source };
        const response = await call(secret, "POST", "/v1/emails", {
          to: [`a@${domain}`],
          ...content,
        });
        expect(response.status, `${part}: ${source}`).toBe(400);
        expect(response.body.reason).toBe("invalid_template");
        expect(response.body.message).toMatch(new RegExp(`^${part}: ${tag} is not allowed`));
      }
    }
    const rows = await Database.use().execute<{ count: number }>(
      sql`select count(*)::int as count from notifications where project_id = ${project.id}`,
    );
    expect(rows[0]!.count).toBe(0);
    expect(await mailbox(domain)).toEqual([]);
  });

  it("refuses them in a stored template, and in a version stored before: send and preview", async () => {
    const { secret, project } = await writer();
    for (const [source, tag] of fileReads) {
      const put = await call(secret, "PUT", "/v1/templates/reader", { subject: "s", html: source });
      expect(put.status, source).toBe(400);
      expect(put.body.message).toMatch(new RegExp(`^html: ${tag} is not allowed`));
    }
    expect((await call(secret, "GET", "/v1/templates/reader")).status).toBe(404);

    // A version written before these tags were refused: it is in S3 and current.
    const version = `projects/${project.id}/templates/old/default/0-old.json`;
    await s3.put(version, JSON.stringify({ subject: "s", html: '{% include "package.json" %}' }));
    await Database.use().execute(
      sql`insert into templates (project_id, key, locale, version, updated_at)
          values (${project.id}, 'old', 'default', ${version}, now())`,
    );
    const send = await call(secret, "POST", "/v1/emails", {
      to: [`a@${uniqueDomain()}`],
      template: { key: "old" },
    });
    expect(send).toMatchObject({ status: 400, body: { reason: "invalid_template" } });
    expect(send.body.message).toMatch(/^html: include is not allowed/);
    const preview = await call(secret, "POST", "/v1/templates/old/preview", {});
    expect(preview).toMatchObject({ status: 400, body: { reason: "invalid_template" } });
    expect(preview.body.message).toMatch(/^html: include is not allowed/);
    expect(JSON.stringify(preview.body)).not.toContain('"private"');
  });

  it("fails, without sending it, a queued email whose content reads a file; the batch succeeds", async () => {
    const { project } = await writer();
    const domain = uniqueDomain();
    // Accepted before these tags were refused: written as the send wrote it then.
    const { deliveryIds } = await inProject(project.id, () =>
      Notification.write({
        channel: "email",
        content: {
          from: "no-reply@pregon.test",
          replyTo: null,
          subject: "s",
          text: fileReads[0][0],
        },
        variables: {},
        tags: {},
        recipients: [
          { position: 0, address: `a@${domain}`, name: null, variables: null, status: "queued" },
        ],
        counts: { accepted: 1, suppressed: 0, unsubscribed: 0, duplicates: 0 },
      }),
    );
    const pace = async () => {};
    expect(
      await asSender(() =>
        Email.deliver(deliveryIds, {
          hook: Otp.contentHook,
          mailer,
          pace,
          leaseMs,
          lastReceive: false,
        }),
      ),
    ).toEqual({ retry: false });
    const [row] = await Database.use().execute<{ status: string; error: string }>(
      sql`select status, error from deliveries where id = ${deliveryIds[0]!}`,
    );
    expect(row!.status).toBe("failed");
    expect(row!.error).toMatch(/^text: include is not allowed/);
    expect(await mailbox(domain)).toEqual([]);
  });
});
