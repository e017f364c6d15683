import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";

import { ownerUrl } from "./support/setup";
import { killStarted, ports, start } from "./support/start";

afterAll(killStarted);

const isOpen = (port: string) =>
  new Promise<boolean>((done) => {
    const socket = connect(Number(port), "127.0.0.1");
    socket.once("connect", () => done(socket.destroy() === socket));
    socket.once("error", () => done(false));
  });

/**
 * The local addresses listening on `port`, read from the kernel's socket tables (Linux): an
 * address bound to every interface reads 0.0.0.0 or ::.
 */
function listeners(port: string): string[] {
  const hex = Number(port).toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local?.endsWith(`:${hex}`)) continue; // 0A: LISTEN
      const address = local.slice(0, -5);
      found.push(
        address === "0100007F" ? "127.0.0.1" : /^0+$/.test(address) ? "any" : `other:${address}`,
      );
    }
  }
  return found;
}

const me = (port: string, key: string) =>
  fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${key}` } });

describe("npm start", () => {
  it("runs the whole stack, stops cleanly on SIGTERM and SIGINT, and keeps its data", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pregon-start-"));
    const env = { ...(await ports()), PREGON_DATA_DIR: dataDir };
    const bootstrap = `boot-${randomBytes(24).toString("hex")}`; // 53 chars of [a-z0-9-]

    const first = start({ ...env, PREGON_BOOTSTRAP_API_KEY: bootstrap });
    const banner = await first.ready;
    expect(banner).toContain(`http://localhost:${env.PORT}/docs`);
    expect(banner).toContain(`:${env.PREGON_MAILBOX_PORT}`);
    expect(banner).toContain(`:${env.PREGON_AWS_PORT}`);
    expect(banner).toContain(`:${env.PREGON_PG_PORT}/pregon`);
    expect(banner).toContain(bootstrap);

    const health = await fetch(`http://127.0.0.1:${env.PORT}/health`);
    expect(await health.json()).toEqual({ status: "ok" });
    expect((await fetch(`http://127.0.0.1:${env.PREGON_MAILBOX_PORT}/store`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.PREGON_AWS_PORT}/health`)).status).toBe(200);
    expect((await me(env.PORT, bootstrap)).status).toBe(200);
    // The development issuer: the CLI mints a token, the default project trusts it.
    const { stdout: token } = await promisify(execFile)(
      "npm",
      ["run", "-s", "pregon", "--", "tokens", "mint", "--subject", "dev-test"],
      { env: { ...process.env, ...env } },
    );
    expect(await (await me(env.PORT, token.trim())).json()).toMatchObject({
      project: { name: "default" },
      token: { issuer: `http://127.0.0.1:${env.PORT}/dev/issuer`, subject: "dev-test" },
    });
    // Queues, templates, mail and the database are for this machine only, not its network.
    for (const port of Object.values(env).filter((v) => /^\d+$/.test(v))) {
      expect({ port, on: listeners(port) }).toEqual({ port, on: ["127.0.0.1"] });
    }
    const created = await fetch(`http://127.0.0.1:${env.PORT}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${bootstrap}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "kept", scopes: ["otp:send"] }),
    });
    const { key: keptKey } = await created.json();

    // An email goes through the whole local pipeline: API, SNS, SQS, the sender, SES.
    const sent = await fetch(`http://127.0.0.1:${env.PORT}/v1/emails`, {
      method: "POST",
      headers: { authorization: `Bearer ${bootstrap}`, "content-type": "application/json" },
      body: JSON.stringify({
        to: ["dev@local.example"],
        subject: "Hi {{ who }}",
        text: "t",
        variables: { who: "dev" },
      }),
    });
    expect(sent.status).toBe(202);
    const mailbox = `http://127.0.0.1:${env.PREGON_MAILBOX_PORT}/store`;
    for (let i = 0; i < 100; i++) {
      const { emails } = await (await fetch(mailbox)).json();
      if (emails.length > 0) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    const { emails } = await (await fetch(mailbox)).json();
    expect(emails).toMatchObject([
      { subject: "Hi dev", destination: { to: ["dev@local.example"] } },
    ]);

    // SMS and push go the same way, into the local inbox (GET /dev/inbox).
    const api = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${env.PORT}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${bootstrap}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    // A webhook endpoint at the local receiver gets the send's facts, signed.
    const hook = await (
      await api("/v1/webhooks", {
        url: `http://localhost:${env.PORT}/dev/webhooks/receive/sms`,
        eventTypes: ["notification.accepted"],
      })
    ).json();
    expect(hook.secret).toMatch(/^whsec_/);
    expect(
      (await api("/v1/sms", { to: ["+34600111222"], text: "Hola {{ n }}", variables: { n: 1 } }))
        .status,
    ).toBe(202);
    const device = await (
      await api("/v1/devices", { userId: "dev", platform: "fcm", token: "local-token" })
    ).json();
    expect((await api("/v1/push", { userIds: ["dev"], title: "T", body: "B" })).status).toBe(202);
    const inbox = `http://127.0.0.1:${env.PORT}/dev/inbox`;
    for (let i = 0; i < 100; i++) {
      const { sms, push } = await (await fetch(inbox)).json();
      if (sms.length > 0 && push.length > 0) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(await (await fetch(inbox)).json()).toMatchObject({
      sms: [{ to: "+34600111222", text: "Hola 1", at: expect.any(String) }],
      push: [{ deviceId: device.id, title: "T", body: "B", data: null, at: expect.any(String) }],
    });

    const captured = `http://127.0.0.1:${env.PORT}/dev/webhooks`;
    for (let i = 0; i < 100; i++) {
      const { received } = await (await fetch(captured)).json();
      if (received.length > 0) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    const [delivered] = (await (await fetch(captured)).json()).received;
    expect(delivered.path).toBe("/sms");
    expect(new Webhook(hook.secret).verify(delivered.body, delivered.headers)).toMatchObject({
      type: "notification.accepted",
      data: { channel: "sms", accepted: 1 },
    });

    // A process manager's SIGTERM reaches only the top process…
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain("stopped");
    for (const port of Object.values(env).filter((v) => /^\d+$/.test(v))) {
      expect(await isOpen(port)).toBe(false);
    }
    expect(existsSync(join(dataDir, "pg", "postmaster.pid"))).toBe(false);
    // Nothing of the key reached a log line: only the banner shows it, once.
    expect(first.output().split(bootstrap)).toHaveLength(3); // banner line + curl example

    const second = start(env);
    await second.ready;
    expect((await me(env.PORT, keptKey)).status).toBe(200);
    const devKey = (await readFile(join(dataDir, "dev-api-key"), "utf8")).trim();
    expect(second.output()).toContain(devKey);
    expect((await me(env.PORT, devKey)).status).toBe(200);
    // …Ctrl-C reaches the whole process group.
    second.signal("SIGINT");
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/SIGINT: stopping Pregón…\nstopped\n$/);
    for (const port of Object.values(env).filter((v) => /^\d+$/.test(v))) {
      expect(await isOpen(port)).toBe(false);
    }
    await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  it("after a kill -9 mid-send, the next start sends what was queued, with its stored template", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pregon-start-"));
    const env = { ...(await ports()), PREGON_DATA_DIR: dataDir };
    const key = `kill-${randomBytes(24).toString("hex")}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`http://127.0.0.1:${env.PORT}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    };
    const mailbox = async () => {
      const store = await fetch(`http://127.0.0.1:${env.PREGON_MAILBOX_PORT}/store`);
      return (await store.json()).emails as { subject: string }[];
    };

    // Slow senders, so the kill finds most of the send still queued.
    const first = start({
      ...env,
      PREGON_BOOTSTRAP_API_KEY: key,
      PREGON_SES_MAX_SEND_RATE: "2",
      PREGON_SMS_RATE: "2",
    });
    await first.ready;
    expect(
      (await call("PUT", "/v1/templates/welcome", { subject: "Hola {{ n }}", html: "<p>x</p>" }))
        .status,
    ).toBe(200);
    const email = await call("POST", "/v1/emails", {
      to: Array.from({ length: 120 }, (_, i) => ({
        email: `r${i}@local.example`,
        variables: { n: i },
      })),
      template: { key: "welcome" },
    });
    const sms = await call("POST", "/v1/sms", {
      to: Array.from({ length: 60 }, (_, i) => `+34611${String(i).padStart(6, "0")}`),
      text: "Hola",
    });
    expect([email.status, sms.status]).toEqual([202, 202]);
    for (let i = 0; i < 100 && (await mailbox()).length === 0; i++) {
      await new Promise((done) => setTimeout(done, 100));
    }
    first.signal("SIGKILL");
    await first.exited;
    // The group's Postgres got the signal too and may still be exiting: the new stack waits for it.

    const second = start({ ...env, PREGON_BOOTSTRAP_API_KEY: key });
    await second.ready;
    expect((await call("GET", "/v1/templates/welcome")).status).toBe(200);
    // What was queued is sent now; only the message a sender held at the kill waits for its
    // lease (a minute), so at most 50 of each are still `sending`.
    const counts = async (id: string) =>
      (await call("GET", `/v1/notifications/${id}`)).body.counts as Record<string, number>;
    const sends = [
      { id: email.body.id, total: 120 },
      { id: sms.body.id, total: 60 },
    ];
    let seen: Record<string, number>[] = [];
    for (let i = 0; i < 300; i++) {
      seen = await Promise.all(sends.map(({ id }) => counts(id)));
      if (seen.every((c, j) => !c.queued && (c.sent ?? 0) >= sends[j]!.total - 50)) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    for (const [j, c] of seen.entries()) {
      expect(c, JSON.stringify(seen)).toEqual({
        sent: expect.any(Number),
        ...(c.sending && { sending: expect.any(Number) }),
      });
      expect((c.sent ?? 0) + (c.sending ?? 0)).toBe(sends[j]!.total);
      expect(c.sending ?? 0).toBeLessThanOrEqual(50);
    }
    const subjects = (await mailbox()).map((e) => e.subject);
    expect(subjects.length).toBeGreaterThanOrEqual(70);
    expect(subjects.every((subject) => /^Hola \d+$/.test(subject))).toBe(true);
    second.signal("SIGTERM");
    expect(await second.exited).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  }, 90_000);

  it("uses DATABASE_URL instead of the embedded Postgres", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pregon-start-"));
    // The owner's URL: `npm start` migrates it and connects as the application role.
    const env = { ...(await ports()), PREGON_DATA_DIR: dataDir, DATABASE_URL: ownerUrl };
    const run = start(env);
    await run.ready;
    expect(run.output()).not.toContain(`:${env.PREGON_PG_PORT}/`);
    expect(existsSync(join(dataDir, "pg"))).toBe(false);
    const devKey = (await readFile(join(dataDir, "dev-api-key"), "utf8")).trim();
    expect((await me(env.PORT, devKey)).status).toBe(200);
    run.signal("SIGTERM");
    expect(await run.exited).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("refuses a bootstrap key outside 32-128 characters of [A-Za-z0-9_-], saying why", async () => {
    for (const bad of ["x".repeat(31), "x".repeat(129), `${"x".repeat(40)}!`]) {
      const run = start({ ...(await ports()), PREGON_BOOTSTRAP_API_KEY: bad });
      await expect(run.ready).rejects.toThrow(
        /PREGON_BOOTSTRAP_API_KEY: must be 32-128 characters/,
      );
      expect(await run.exited).not.toBe(0);
    }
  }, 60_000);
});
