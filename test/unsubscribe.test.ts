import { createApp } from "@pregon/api";
import { Database, Log, Notification, Preference } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  acknowledge,
  event,
  type MailboxEmail,
  mailbox,
  mailer,
  receiveAll,
  uniqueDomain,
} from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";

const app = createApp(settings);
const sender = createEmailSender({ mailer, sendRate: 5000 });

const call = (secret: string, method: string, path: string, body?: unknown) =>
  callApp(app, secret, method, path, body);

/** A project with a key for sends, categories and preferences, and a `newsletter` category. */
async function project(categories: Record<string, boolean> = { newsletter: true }) {
  const made = await projectWithKey([
    "emails:send",
    "notifications:read",
    "preferences:read",
    "preferences:write",
  ]);
  for (const [key, optedInByDefault] of Object.entries(categories)) {
    const put = await call(made.secret, "PUT", `/v1/categories/${key}`, {
      name: `The ${key}`,
      optedInByDefault,
    });
    expect(put.status).toBe(200);
  }
  return made;
}

/** Sends an email and runs the sender on its queue message; returns the 202's body. */
async function send(secret: string, to: string[], fields: Record<string, unknown> = {}) {
  const accepted = await call(secret, "POST", "/v1/emails", {
    to,
    subject: "Hi",
    html: '<p>News. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    text: "News. Unsubscribe: {{ unsubscribe_url }}",
    ...fields,
  });
  expect(accepted.status).toBe(202);
  if (accepted.body.recipients.accepted > 0) {
    const records = await receiveAll(1);
    const result = await sender(event(...records));
    expect(result.batchItemFailures).toEqual([]);
    await acknowledge(records);
  }
  return accepted.body;
}

const headerOf = (email: MailboxEmail, name: string) =>
  email.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

/** The one-click URL of the last email to `address`. */
async function linkTo(domain: string, address: string): Promise<string> {
  const emails = (await mailbox(domain)).filter((e) =>
    e.destination.to.some((to) => to.includes(address)),
  );
  const header = headerOf(emails.at(-1)!, "List-Unsubscribe")!;
  return /^<(.+)>$/.exec(header)![1]!;
}

/** The request path of a link (the app is called without the public host). */
const pathOf = (url: string) => new URL(url).pathname;

/** How Gmail sends RFC 8058's one-click unsubscribe: a form-encoded POST, no cookies, no auth. */
const oneClick = (path: string) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "List-Unsubscribe=One-Click",
  });

const preferenceRows = (projectId: string) =>
  Database.use().execute<{ category: string; subscribed: boolean; source: string }>(
    sql`select category, subscribed, source from preferences where project_id = ${projectId} order by category`,
  );

const factsOf = (projectId: string, type: string) =>
  Database.use().execute<{ body: string }>(
    sql`select body from outbox where body::json->>'type' = ${type}
        and body::json->>'projectId' = ${projectId} order by id`,
  );

describe("one-click unsubscribe", () => {
  it("puts exact List-Unsubscribe headers on a newsletter, and none on a receipt", async () => {
    const { secret } = await project();
    const domain = uniqueDomain();
    await send(secret, [`ana@${domain}`], { category: "newsletter" });
    await send(secret, [`bo@${domain}`]);
    const [newsletter, receipt] = [
      (await mailbox(domain)).find((e) => e.destination.to[0]!.includes("ana@"))!,
      (await mailbox(domain)).find((e) => e.destination.to[0]!.includes("bo@"))!,
    ];
    const url = /^<(https:\/\/pregon\.test\/u\/[A-Za-z0-9_-]+)>$/.exec(
      headerOf(newsletter, "List-Unsubscribe")!,
    )![1]!;
    expect(headerOf(newsletter, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    // The same link is in the body, for people; no address is in it.
    expect(newsletter.body.html).toContain(`href="${url}"`);
    expect(newsletter.body.text).toContain(url);
    expect(url).not.toContain("ana");
    expect(headerOf(receipt, "List-Unsubscribe")).toBeUndefined();
    expect(headerOf(receipt, "List-Unsubscribe-Post")).toBeUndefined();
    expect(receipt.body.text).toBe("News. Unsubscribe: ");
  });

  it("a form-encoded POST stops the next send of that category only", async () => {
    const { secret, project: p } = await project({ newsletter: true, offers: true });
    const domain = uniqueDomain();
    const ana = `ana@${domain}`;
    await send(secret, [ana], { category: "newsletter" });
    const response = await oneClick(pathOf(await linkTo(domain, ana)));
    expect(response.status).toBe(200);
    expect(response.headers.get("location")).toBeNull();
    expect(await preferenceRows(p.id)).toEqual([
      { category: "newsletter", subscribed: false, source: "link" },
    ]);
    // Recorded once, as a fact (which the audit log records), with no address in it.
    const facts = await factsOf(p.id, "recipient.unsubscribed");
    expect(facts).toHaveLength(1);
    const fact = JSON.parse(facts[0]!.body);
    expect(fact).toMatchObject({
      actor: { type: "system", reason: "unsubscribe" },
      data: {
        category: "newsletter",
        recipientHmac: Notification.recipientHmac(p.id, "email", ana),
        source: "link",
      },
    });
    expect(facts[0]!.body).not.toContain(domain);
    // A second click changes nothing and records nothing more.
    expect((await oneClick(pathOf(await linkTo(domain, ana)))).status).toBe(200);
    expect(await factsOf(p.id, "recipient.unsubscribed")).toHaveLength(1);

    const before = (await mailbox(domain)).length;
    const newsletter = await send(secret, [ana, `bo@${domain}`], { category: "newsletter" });
    expect(newsletter.recipients).toEqual({
      accepted: 1,
      suppressed: 0,
      unsubscribed: 1,
      duplicates: 0,
    });
    const status = await call(secret, "GET", `/v1/notifications/${newsletter.id}/deliveries`);
    expect(status.body.deliveries.map((d: { status: string }) => d.status)).toEqual([
      "unsubscribed",
      "sent",
    ]);
    await send(secret, [ana], { category: "offers" });
    await send(secret, [ana]);
    const after = (await mailbox(domain)).slice(before);
    expect(after.map((e) => e.destination.to[0]!.split("@")[0])).toEqual(["bo", "ana", "ana"]);
  });

  it("refuses a token changed for another recipient or category, and a forged one, with 404", async () => {
    const { secret, project: p } = await project({ newsletter: true, offers: true });
    const domain = uniqueDomain();
    await send(secret, [`ana@${domain}`], { category: "newsletter" });
    const token = pathOf(await linkTo(domain, `ana@${domain}`)).slice("/u/".length);
    const bytes = Buffer.from(token, "base64url");
    const body = bytes.subarray(0, bytes.length - 32);
    const signature = bytes.subarray(bytes.length - 32);
    const bo = Buffer.from(Notification.recipientHmac(p.id, "email", `bo@${domain}`), "hex");
    const otherRecipient = Buffer.concat([body.subarray(0, 17), bo, body.subarray(49), signature]);
    const otherCategory = Buffer.concat([body.subarray(0, 49), Buffer.from("offers"), signature]);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 1]! ^= 1;
    const tokens = [otherRecipient, otherCategory, flipped].map((b) => b.toString("base64url"));
    for (const forged of [...tokens, "nope", token.slice(0, -2), `${token}AA`]) {
      const posted = await oneClick(`/u/${forged}`);
      expect(posted.status, forged).toBe(404);
      const got = await app.request(`/u/${forged}`);
      expect(got.status).toBe(404);
      // The same answer as any unknown route: nothing to tell a valid project or address by.
      expect(await got.json()).toEqual({
        code: "NOT_FOUND",
        reason: "not_found",
        message: "No such route",
      });
    }
    expect(Preference.verify(tokens[0]!)).toBeUndefined();
    expect(await preferenceRows(p.id)).toEqual([]);
    expect(await factsOf(p.id, "recipient.unsubscribed")).toHaveLength(0);
  });

  it("a GET shows the page and changes nothing", async () => {
    const { secret, project: p } = await project();
    const domain = uniqueDomain();
    await send(secret, [`ana@${domain}`], { category: "newsletter" });
    const path = pathOf(await linkTo(domain, `ana@${domain}`));
    const page = await app.request(path);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await page.text();
    expect(html).toContain("The newsletter");
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(await preferenceRows(p.id)).toEqual([]);
    const next = await send(secret, [`ana@${domain}`], { category: "newsletter" });
    expect(next.recipients.accepted).toBe(1);

    // The page's own buttons: unsubscribe, then subscribe again.
    expect(await (await oneClick(path)).text()).toContain("Subscribe again");
    const again = await app.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "subscribe=1",
    });
    expect(await again.text()).toContain("You are subscribed again.");
    expect(await preferenceRows(p.id)).toEqual([
      { category: "newsletter", subscribed: true, source: "link" },
    ]);
    expect(await factsOf(p.id, "recipient.subscribed")).toHaveLength(1);
  });

  it("keeps the token out of log lines", () => {
    const line = JSON.stringify(
      { path: "/u/AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8w" },
      Log.redact,
    );
    expect(line).toBe('{"path":"/u/[redacted]"}');
  });
});

describe("categories and preferences", () => {
  it("skips an opt-in category's recipients until they are opted in through the API", async () => {
    const { secret } = await project({ beta: false });
    const domain = uniqueDomain();
    const ana = `Ana@${domain}`;
    expect((await send(secret, [ana], { category: "beta" })).recipients).toMatchObject({
      accepted: 0,
      unsubscribed: 1,
    });
    const set = await call(secret, "PUT", "/v1/preferences", {
      email: ana.toLowerCase(),
      category: "beta",
      subscribed: true,
    });
    expect(set).toMatchObject({
      status: 200,
      body: { preferences: [{ category: "beta", subscribed: true, source: "api" }] },
    });
    expect((await send(secret, [ana], { category: "beta" })).recipients.accepted).toBe(1);
    const looked = await call(secret, "POST", "/v1/preferences/lookup", { email: ana });
    expect(looked.body.preferences).toEqual([
      expect.objectContaining({ category: "beta", subscribed: true, source: "api" }),
    ]);
  });

  it("refuses an unknown category (404), the built-in one as a definition (400), and needs the scope", async () => {
    const { secret } = await project();
    const domain = uniqueDomain();
    const unknown = await call(secret, "POST", "/v1/emails", {
      to: [`ana@${domain}`],
      subject: "Hi",
      text: "Hi",
      category: "nope",
    });
    expect(unknown).toMatchObject({ status: 404, body: { reason: "category_not_found" } });
    const builtIn = await call(secret, "PUT", "/v1/categories/transactional", { name: "T" });
    expect(builtIn.status).toBe(400);
    // Transactional named explicitly is the default.
    expect(
      (await send(secret, [`ana@${domain}`], { category: "transactional" })).recipients.accepted,
    ).toBe(1);
    const sender = await projectWithKey(["emails:send"]);
    expect((await call(sender.secret, "GET", "/v1/categories")).status).toBe(403);
    expect(
      (
        await call(secret, "PUT", "/v1/preferences", {
          email: "x@y.example",
          category: "nope",
          subscribed: false,
        })
      ).body.reason,
    ).toBe("category_not_found");
  });
});
