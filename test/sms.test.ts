import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { createApp } from "@pregon/api";
import { Database, Otp, RateLimit, SendError, Sms, Suppression } from "@pregon/core";
import { createSmsSender } from "@pregon/functions/handlers/sender";
import { createInbox } from "@pregon/local/inbox";
import { mockClient } from "aws-sdk-client-mock";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { event, taken } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";

const app = createApp(settings);
const inbox = createInbox();
const sender = createSmsSender({ gateway: inbox.smsGateway, sendRate: 5000 });

/** Runs the SMS sender on everything queued now, as the Lambda would. */
async function drain() {
  for await (const records of taken("sms")) {
    const { batchItemFailures } = await sender(event(...records));
    expect(batchItemFailures).toEqual([]);
  }
}

const sentTo = (phone: string) => inbox.contents().sms.filter((sms) => sms.to === phone);

/** A number no other test uses: +34 6xx xxx xxx (Spain), +52 55 xxxx xxxx (Mexico). */
let next = 100_000;
const spanish = () => `+34600${next++}`;
const mexican = () => `+525512${next++}`;

async function fraudRules(projectId: string) {
  const rows = await Database.use().execute<{ rule: string }>(
    sql`select rule from fraud_events where project_id = ${projectId} order by id`,
  );
  return rows.map((row) => row.rule);
}

describe("SNS SMS adapter", () => {
  // Only this client is mocked: the outbox's own SNS client keeps publishing to fauxqs.
  const client = new SNSClient({ region: "us-east-1" });
  const sns = mockClient(client);
  afterEach(() => sns.reset());

  it("publishes to the phone number with the SMS type and the configured sender identity", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "sns-1" });
    const smsSender = Sms.snsSmsGateway(client, {
      senderId: "Pregon",
      originationNumber: "+12065550100",
    });
    const result = await smsSender.send({ to: "+34600111222", text: "Hola", type: "promotional" });
    expect(result).toEqual({ messageId: "sns-1" });
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      {
        PhoneNumber: "+34600111222",
        Message: "Hola",
        MessageAttributes: {
          "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Promotional" },
          "AWS.SNS.SMS.SenderID": { DataType: "String", StringValue: "Pregon" },
          "AWS.MM.SMS.OriginationNumber": { DataType: "String", StringValue: "+12065550100" },
        },
      },
    ]);
  });

  it("sends transactional SMS without sender attributes when none is configured", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "sns-2" });
    await Sms.snsSmsGateway(client).send({
      to: "+525512345678",
      text: "Código 123456",
      type: "transactional",
    });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes).toEqual({
      "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
    });
  });

  it("tells permanent refusals from transient errors", async () => {
    const smsSender = Sms.snsSmsGateway(client);
    const failWith = async (name: string) => {
      sns.reset();
      sns.on(PublishCommand).rejects(Object.assign(new Error(name), { name }));
      return smsSender
        .send({ to: "+34600111222", text: "x", type: "transactional" })
        .catch((e: unknown) => e);
    };
    const invalid = await failWith("InvalidParameterException");
    expect(invalid).toBeInstanceOf(SendError);
    expect(invalid).toMatchObject({ permanent: true });
    expect(await failWith("ThrottlingException")).toMatchObject({ permanent: false });
    expect(await failWith("InternalErrorException")).toMatchObject({ permanent: false });
  });
});

describe("segments", () => {
  it("counts GSM-7 in 160/153 septets, extension characters as two, anything else as UCS-2 70/67", () => {
    expect(Sms.segments("a".repeat(160))).toBe(1);
    expect(Sms.segments("a".repeat(161))).toBe(2);
    expect(Sms.segments("a".repeat(306))).toBe(2);
    expect(Sms.segments("a".repeat(307))).toBe(3);
    expect(Sms.segments("€".repeat(80))).toBe(1);
    expect(Sms.segments("€".repeat(81))).toBe(2);
    expect(Sms.segments("ñ".repeat(160))).toBe(1); // ñ is GSM-7
    expect(Sms.segments("á".repeat(70))).toBe(1); // á is not
    expect(Sms.segments("á".repeat(71))).toBe(2);
    expect(Sms.segments("á".repeat(134))).toBe(2);
    expect(Sms.segments("á".repeat(135))).toBe(3);
  });
});

describe("POST /v1/sms", () => {
  it("sends one SMS per number, rendered per recipient, with its segments recorded", async () => {
    const { secret } = await projectWithKey(["sms:send", "notifications:read"]);
    const [ana, bo] = [spanish(), mexican()];
    const accepted = await callApp(app, secret, "POST", "/v1/sms", {
      to: [ana, { phone: bo, variables: { name: "Bo" } }, ana],
      text: "Hola {{ name }}, tu pedido {{ order }} va en camino. {{ pad }}",
      variables: { name: "Ana", order: "A-17", pad: "á".repeat(60) },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      channel: "sms",
      status: "queued",
      recipients: { accepted: 2, suppressed: 0, unsubscribed: 0, duplicates: 1 },
    });

    await drain();
    expect(sentTo(ana).map((sms) => [sms.text.slice(0, 36), sms.type])).toEqual([
      ["Hola Ana, tu pedido A-17 va en camin", "transactional"],
    ]);
    expect(sentTo(bo)[0]!.text).toMatch(/^Hola Bo, /);

    const deliveries = await callApp(
      app,
      secret,
      "GET",
      `/v1/notifications/${accepted.body.id}/deliveries`,
    );
    expect(deliveries.body.deliveries.map((d: { status: string }) => d.status)).toEqual([
      "sent",
      "sent",
    ]);
    // 100+ characters with á: UCS-2, 67 per segment.
    expect(deliveries.body.deliveries[0].segments).toBe(2);
    expect(deliveries.body.deliveries[0].providerMessageId).toMatch(/^local-/);
  });

  it("refuses an invalid number with a 400 naming it", async () => {
    const { secret } = await projectWithKey(["sms:send"]);
    for (const bad of ["600111222", "+34 600 111 222", "+3460011", "+999123456789"]) {
      const refused = await callApp(app, secret, "POST", "/v1/sms", {
        to: [spanish(), bad],
        text: "x",
      });
      expect(refused.status, bad).toBe(400);
      expect(refused.body.message).toMatch(/^to\.1: /);
      expect(refused.body.issues[0].path.slice(0, 2)).toEqual(["to", 1]);
    }
  });

  it("refuses a number outside the allowed countries, and records it as a fraud event", async () => {
    const { project, secret } = await projectWithKey(["sms:send"]);
    const refused = await callApp(app, secret, "POST", "/v1/sms", {
      to: [spanish(), "+33612345678"],
      text: "x",
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ reason: "sms_country_not_allowed" });
    expect(refused.body.message).toMatch(/^to\.1: numbers of FR are not allowed/);
    expect(await fraudRules(project.id)).toEqual(["sms_country_not_allowed"]);
    expect(inbox.contents().sms.some((sms) => sms.to === "+33612345678")).toBe(false);
  });

  it("skips and counts suppressed numbers", async () => {
    const { secret, as } = await projectWithKey(["sms:send"]);
    const [kept, suppressed] = [spanish(), spanish()];
    await as(() => Suppression.add({ channel: "sms", address: suppressed, reason: "unsubscribe" }));
    const accepted = await callApp(app, secret, "POST", "/v1/sms", {
      to: [kept, suppressed],
      text: "x",
    });
    expect(accepted.body.recipients).toEqual({
      accepted: 1,
      suppressed: 1,
      unsubscribed: 0,
      duplicates: 0,
    });
    await drain();
    expect(sentTo(kept)).toHaveLength(1);
    expect(sentTo(suppressed)).toHaveLength(0);
  });

  it("stops at the project's daily SMS budget and says so", async () => {
    const { project, secret } = await projectWithKey(["sms:send"]);
    await RateLimit.setLimits(project.id, "sms", { recipientsPerDay: 3 });
    const first = await callApp(app, secret, "POST", "/v1/sms", {
      to: [spanish(), spanish()],
      text: "x",
    });
    expect(first.status).toBe(202);
    const over = await callApp(app, secret, "POST", "/v1/sms", {
      to: [spanish(), spanish()],
      text: "x",
    });
    expect(over.status).toBe(429);
    expect(over.body.reason).toBe("rate_limited");
    expect(over.body.message).toMatch(/day/);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("refuses text that reads a file (include, render, layout), naming the tag", async () => {
    const { secret } = await projectWithKey(["sms:send", "templates:write"]);
    const phone = spanish();
    for (const tag of ["include", "render", "layout"]) {
      const source = `Hi {% ${tag} "package.json" %}`;
      const refused = await callApp(app, secret, "POST", "/v1/sms", { to: [phone], text: source });
      expect(refused.status, tag).toBe(400);
      expect(refused.body.reason).toBe("invalid_template");
      expect(refused.body.message).toMatch(new RegExp(`^text: ${tag} is not allowed`));
      const stored = await callApp(app, secret, "PUT", "/v1/templates/sms-reader", {
        subject: "s",
        html: "h",
        text: source,
      });
      expect(stored.status, tag).toBe(400);
    }
    await drain();
    expect(sentTo(phone)).toEqual([]);
  });

  it("needs the sms:send scope", async () => {
    const { secret } = await projectWithKey(["emails:send"]);
    const refused = await callApp(app, secret, "POST", "/v1/sms", { to: [spanish()], text: "x" });
    expect(refused.status).toBe(403);
  });
});

describe("one-time codes by SMS", () => {
  it("sends a code by SMS that verifies once", async () => {
    const { secret } = await projectWithKey(["otp:send", "otp:verify"]);
    const phone = spanish();
    const sent = await callApp(app, secret, "POST", "/v1/otp", {
      channel: "sms",
      to: phone,
      locale: "es",
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ channel: "sms", to: `+34******${phone.slice(-3)}` });
    await drain();
    const [sms] = sentTo(phone);
    const code = /^(\d{6}) es tu código de login\. Caduca en 5 minutos\.$/.exec(sms!.text)?.[1];
    expect(code).toBeDefined();
    const verify = (value: string) =>
      callApp(app, secret, "POST", "/v1/otp/verify", { id: sent.body.id, code: value });
    expect((await verify(code!)).body).toEqual({ valid: true });
    expect((await verify(code!)).body).toMatchObject({ valid: false, reason: "used" });
  });

  it("refuses numbers outside the allowed countries and invalid ones", async () => {
    const { project, secret } = await projectWithKey(["otp:send"]);
    const outside = await callApp(app, secret, "POST", "/v1/otp", {
      channel: "sms",
      to: "+447911123456",
    });
    expect(outside.status).toBe(400);
    expect(outside.body.reason).toBe("sms_country_not_allowed");
    expect(await fraudRules(project.id)).toEqual(["sms_country_not_allowed"]);

    const invalid = await callApp(app, secret, "POST", "/v1/otp", { channel: "sms", to: "12345" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues[0].path).toEqual(["to"]);
  });

  it("limits codes per number range against SMS pumping, recording each refusal", async () => {
    const { project, secret } = await projectWithKey(["otp:send"]);
    const range = `+5255${String(next++ % 10_000).padStart(4, "0")}`;
    const numbers = Array.from(
      { length: Otp.defaultRules.codesPerPrefixPerHour + 2 },
      (_, i) => `${range}${String(i).padStart(4, "0")}`,
    );
    const statuses: number[] = [];
    for (const to of numbers) {
      statuses.push((await callApp(app, secret, "POST", "/v1/otp", { channel: "sms", to })).status);
    }
    const allowed = Otp.defaultRules.codesPerPrefixPerHour;
    expect(statuses).toEqual([...Array(allowed).fill(201), 429, 429]);
    expect(await fraudRules(project.id)).toEqual(["otp_prefix_limit", "otp_prefix_limit"]);
    // Another range of the same country is not affected.
    expect(
      (await callApp(app, secret, "POST", "/v1/otp", { channel: "sms", to: mexican() })).status,
    ).toBe(201);
  });
});
