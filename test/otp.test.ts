import { createApp } from "@pregon/api";
import { Clock, Database, Log, Otp } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { acknowledge, event, mailbox, mailer, receive, uniqueDomain } from "./support/email";
import { callApp, inProject, projectWithKey, settings } from "./support/fixtures";

const app = createApp(settings);
const sender = createEmailSender({ mailer, sendRate: 5000 });
const restores: Array<() => void> = [];
afterEach(() => {
  for (const restore of restores.splice(0)) restore();
});

function manualClock() {
  const clock = Clock.manual(new Date());
  restores.push(Clock.use(clock));
  return clock;
}

const call = (secret: string, method: string, path: string, body?: unknown) =>
  callApp(app, secret, method, path, body);

/** Issues an OTP and makes its code as the sender does (without sending it). */
async function issued(projectId: string, to = `u@${uniqueDomain()}`) {
  const sent = await inProject(projectId, () =>
    Otp.send({ channel: "email", to, purpose: "login", length: 6, ttlSeconds: 300 }, settings),
  );
  const code = await Otp.issueCode(sent.id);
  return { ...sent, code: code!, destination: to };
}

/** The queue messages of these OTPs; messages of earlier tests (never sent) are dropped. */
async function messagesOf(...otpIds: string[]) {
  const rows = await Database.use().execute<{ delivery_id: string }>(
    sql`select delivery_id from otps
        where id::text in (select json_array_elements_text(${JSON.stringify(otpIds)}::json))`,
  );
  const wanted = rows.map((row) => row.delivery_id);
  const found: Awaited<ReturnType<typeof receive>> = [];
  const deadline = Date.now() + 10_000;
  while (found.length < wanted.length && Date.now() < deadline) {
    for (const record of await receive()) {
      if (wanted.some((id) => record.body.includes(id))) found.push(record);
      else await acknowledge([record]);
    }
  }
  return found;
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/** The facts written about a code (`otp.issued` aside), oldest first. */
async function factsAbout(otpId: string) {
  const rows = await Database.use().execute<{ body: string }>(
    sql`select body from outbox where topic = 'events' and body::jsonb->>'subject' = ${otpId}
        and body::jsonb->>'type' <> 'otp.issued' order by id`,
  );
  return rows.map((row) => JSON.parse(row.body));
}

async function count(table: string, where: ReturnType<typeof sql>) {
  const rows = await Database.use().execute<{ n: number }>(
    sql`select count(*)::int as n from ${sql.raw(table)} where ${where}`,
  );
  return rows[0]!.n;
}

describe("POST /v1/otp and /v1/otp/verify", () => {
  it("sends a code by email that verifies once", async () => {
    const { secret } = await projectWithKey(["otp:send", "otp:verify"]);
    const domain = uniqueDomain();
    const sent = await call(secret, "POST", "/v1/otp", {
      channel: "email",
      to: `Ana@${domain}`,
      locale: "es-MX",
    });
    expect(sent).toMatchObject({
      status: 201,
      body: { id: expect.any(String), channel: "email", to: `a***@${domain}` },
    });
    const resendAt = new Date(sent.body.resendAvailableAt).getTime();
    expect(resendAt - Date.now()).toBeGreaterThan(25_000);

    const [record] = await messagesOf(sent.body.id);
    await sender(event(record!));
    await acknowledge([record!]);
    const [email] = await mailbox(domain);
    expect(email!.subject).toBe("Tu código de verificación");
    const code = /es (\d{6})\./.exec(email!.body.text!)![1]!;
    expect(email!.body.html).toContain(`<strong>${code}</strong>`);

    const verify = (c: string) =>
      call(secret, "POST", "/v1/otp/verify", { id: sent.body.id, code: c });
    expect((await verify(wrong(code))).body).toEqual({
      valid: false,
      reason: "invalid",
      attemptsRemaining: 4,
    });
    expect((await verify(code)).body).toEqual({ valid: true });
    expect((await verify(code)).body).toMatchObject({ valid: false, reason: "used" });
    const status = await call(secret, "GET", `/v1/otp/${sent.body.id}`);
    expect(status.body).toMatchObject({
      status: "verified",
      to: `a***@${domain}`,
      attemptsRemaining: 3,
    });
    expect(JSON.stringify(status.body)).not.toContain(code);
  });

  it("gives exactly one success to 100 concurrent checks of a valid code, 20 times over", async () => {
    const { project, as } = await projectWithKey();
    for (let round = 0; round < 20; round++) {
      const otp = await issued(project.id);
      const results = await Promise.all(
        Array.from({ length: 100 }, () => as(() => Otp.verify(otp.id, otp.code))),
      );
      expect(results.filter((r) => r.valid)).toHaveLength(1);
      expect(results.filter((r) => !r.valid && r.reason === "used")).toHaveLength(99);
      // One fact for the one counted check, whole and about this code and project.
      const facts = await factsAbout(otp.id);
      expect(facts.map((fact) => fact.type)).toEqual(["otp.verified"]);
      expect(facts[0]).toMatchObject({
        version: 1,
        projectId: project.id,
        subject: otp.id,
        data: { otpId: otp.id },
        actor: { type: "key" },
      });
    }
  }, 60_000);

  it("evaluates at most 5 of 200 concurrent wrong guesses; the right code then fails", async () => {
    const { project, as } = await projectWithKey();
    const otp = await issued(project.id);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => as(() => Otp.verify(otp.id, wrong(otp.code)))),
    );
    expect(results.filter((r) => !r.valid && r.reason === "invalid")).toHaveLength(5);
    expect(results.filter((r) => !r.valid && r.reason === "max_attempts")).toHaveLength(195);
    expect((await factsAbout(otp.id)).map((fact) => fact.type)).toEqual(
      Array(5).fill("otp.failed"),
    );
    expect(await as(() => Otp.verify(otp.id, otp.code))).toEqual({
      valid: false,
      reason: "max_attempts",
      attemptsRemaining: 0,
    });
    expect(await count("otps", sql`id = ${otp.id} and attempts = 5`)).toBe(1);
  });

  it("carries failures over to new codes: 10 in an hour lock the destination", async () => {
    const clock = manualClock();
    const { project, secret, as } = await projectWithKey(["otp:send"]);
    const to = `victim@${uniqueDomain()}`;
    const a = await issued(project.id, to);
    for (let i = 0; i < 3; i++) await as(() => Otp.verify(a.id, wrong(a.code)));
    clock.advance(31_000);
    const b = await issued(project.id, to);
    for (let i = 0; i < 5; i++) await as(() => Otp.verify(b.id, wrong(b.code)));
    clock.advance(31_000);
    const c = await issued(project.id, to);
    for (let i = 0; i < 2; i++) {
      expect((await as(() => Otp.verify(c.id, wrong(c.code)))).valid).toBe(false);
    }
    // Ten failures for this destination in the hour: even the right code is refused now.
    expect(await as(() => Otp.verify(c.id, c.code))).toMatchObject({
      valid: false,
      reason: "locked",
    });
    clock.advance(31_000);
    const refused = await call(secret, "POST", "/v1/otp", { channel: "email", to });
    expect(refused).toMatchObject({ status: 429, body: { reason: "otp_locked" } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(3000);
    // Another destination is not locked.
    expect(
      (await call(secret, "POST", "/v1/otp", { channel: "email", to: `other@${uniqueDomain()}` }))
        .status,
    ).toBe(201);
    // After the hour, the destination is free again.
    clock.advance(60 * 60_000);
    expect((await call(secret, "POST", "/v1/otp", { channel: "email", to })).status).toBe(201);
  });

  it("sends one code to 20 concurrent requests for a destination; the rest get 429, recorded", async () => {
    const { project, secret } = await projectWithKey(["otp:send"]);
    const to = `busy@${uniqueDomain()}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call(secret, "POST", "/v1/otp", { channel: "email", to })),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(19);
    expect(new Set(refused.map((r) => r.body.reason))).toEqual(new Set(["otp_cooldown"]));
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await count("otps", sql`project_id = ${project.id}`)).toBe(1);
    expect(
      await count("fraud_events", sql`project_id = ${project.id} and rule = 'otp_cooldown'`),
    ).toBe(19);
  });

  it("limits codes per destination per 10 minutes and per client IP", async () => {
    const clock = manualClock();
    const { project, as } = await projectWithKey();
    const to = `often@${uniqueDomain()}`;
    for (let i = 0; i < 5; i++) {
      await issued(project.id, to);
      clock.advance(31_000);
    }
    await expect(issued(project.id, to)).rejects.toMatchObject({ reason: "otp_destination_limit" });
    const ip = "203.0.113.9";
    const byIp = () =>
      as(() =>
        Otp.send(
          {
            channel: "email",
            to: `x@${uniqueDomain()}`,
            purpose: "login",
            length: 6,
            ttlSeconds: 300,
            clientIp: ip,
          },
          settings,
        ),
      );
    for (let i = 0; i < Otp.defaultRules.codesPerIpPerHour; i++) await byIp();
    await expect(byIp()).rejects.toMatchObject({ reason: "otp_ip_limit" });
  });

  it("binds a code to its id, and expires it exactly at its TTL", async () => {
    const clock = manualClock();
    const { project, as } = await projectWithKey();
    const a = await issued(project.id);
    const b = await issued(project.id);
    const crossed = await as(() => Otp.verify(b.id, a.code));
    expect(crossed.valid).toBe(a.code === b.code); // 1 in a million they match
    const expiresAt = new Date(a.expiresAt).getTime();
    clock.advance(expiresAt - clock.now().getTime() - 1);
    expect(await as(() => Otp.verify(a.id, a.code))).toEqual({ valid: true });
    clock.advance(1); // exactly the TTL
    const c = await issued(
      project.id,
      b.destination === a.destination ? "z@z.example" : `c@${uniqueDomain()}`,
    );
    clock.advance(new Date(c.expiresAt).getTime() - clock.now().getTime());
    expect(await as(() => Otp.verify(c.id, c.code))).toMatchObject({
      valid: false,
      reason: "expired",
    });
    const other = await projectWithKey();
    expect(await other.as(() => Otp.verify(c.id, c.code))).toMatchObject({ reason: "not_found" });
  });

  it("does not send a code whose OTP was canceled or expired before the sender got to it", async () => {
    const clock = manualClock();
    const { project, secret, as } = await projectWithKey(["otp:send"]);
    const domain = uniqueDomain();
    const canceled = await as(() =>
      Otp.send(
        { channel: "email", to: `c@${domain}`, purpose: "login", length: 6, ttlSeconds: 60 },
        settings,
      ),
    );
    expect((await call(secret, "POST", `/v1/otp/${canceled.id}/cancel`, {})).body.status).toBe(
      "canceled",
    );
    const late = await as(() =>
      Otp.send(
        { channel: "email", to: `e@${domain}`, purpose: "login", length: 6, ttlSeconds: 60 },
        settings,
      ),
    );
    clock.advance(61_000);
    const records = await messagesOf(canceled.id, late.id);
    expect(records).toHaveLength(2);
    await sender(event(...records));
    await acknowledge(records);
    expect(await mailbox(domain)).toEqual([]);
    expect(await count("deliveries", sql`project_id = ${project.id} and status = 'expired'`)).toBe(
      2,
    );
    expect((await call(secret, "GET", `/v1/otp/${late.id}`)).body.status).toBe("expired");
  });

  it("uses a stored template instead of the built-in message when asked", async () => {
    const { secret } = await projectWithKey(["otp:send", "templates:write"]);
    const domain = uniqueDomain();
    await call(secret, "PUT", "/v1/templates/otp-brand", {
      subject: "Acme {{ purpose }}",
      html: "<p>{{ code }} ({{ expiresInMinutes }} min)</p>",
    });
    const sent = await call(secret, "POST", "/v1/otp", {
      channel: "email",
      to: `b@${domain}`,
      purpose: "signup",
      ttlSeconds: 120,
      template: { key: "otp-brand" },
    });
    const [record] = await messagesOf(sent.body.id);
    await sender(event(record!));
    await acknowledge([record!]);
    const [email] = await mailbox(domain);
    expect(email!.subject).toBe("Acme signup");
    expect(email!.body.html).toMatch(/^<p>\d{6} \(2 min\)<\/p>$/);
  });

  it("masks the destination of OTP messages once the sweeper forgets the OTP", async () => {
    const clock = manualClock();
    const { project } = await projectWithKey();
    const otp = await issued(project.id, `forget@${uniqueDomain()}`);
    clock.advance(25 * 60 * 60_000);
    expect(await Otp.purge()).toBeGreaterThanOrEqual(1);
    const rows = await Database.use().execute<{ address: string }>(
      sql`select d.address from deliveries d join notifications n on n.id = d.notification_id
          where n.project_id = ${project.id}`,
    );
    expect(rows.map((r) => r.address)).toEqual([otp.to]);
    expect(await count("otps", sql`id = ${otp.id}`)).toBe(0);
  });

  it("leaves no code and no API key in the database or the logs", async () => {
    const { project, secret } = await projectWithKey(["otp:send", "otp:verify"]);
    const domain = uniqueDomain();
    const output: string[] = [];
    Log.logger.setLogLevel("DEBUG");
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      output.push(String(chunk));
      return true;
    });
    let code: string;
    try {
      const sent = await call(secret, "POST", "/v1/otp", {
        channel: "email",
        to: `ana@${domain}`,
        length: 10,
      });
      const [record] = await messagesOf(sent.body.id);
      await sender(event(record!));
      await acknowledge([record!]);
      code = /is (\d{10})\./.exec((await mailbox(domain))[0]!.body.text!)![1]!;
      await call(secret, "POST", "/v1/otp/verify", { id: sent.body.id, code: "0000000000" });
      Log.logger.info("a caller logging carelessly", { input: { code, apiKey: secret } });
      expect(
        (await call(secret, "POST", "/v1/otp/verify", { id: sent.body.id, code })).body,
      ).toEqual({ valid: true });
    } finally {
      spy.mockRestore();
      Log.logger.setLogLevel("SILENT");
    }
    expect(output.join("")).toContain("a caller logging carelessly");
    expect(output.join("")).not.toContain(code);
    expect(output.join("")).not.toContain(secret);

    const tables = await Database.use().execute<{ name: string }>(
      sql`select tablename as name from pg_tables where schemaname = 'public'`,
    );
    let dump = "";
    for (const { name } of tables) {
      const rows = await Database.use().execute<{ row: string }>(
        sql`select row_to_json(t)::text as row from ${sql.identifier(name)} t`,
      );
      dump += rows.map((r) => r.row).join("\n");
    }
    expect(dump).toContain(project.id);
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(secret);
  });
});
