import { CreatePlatformEndpointCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { createApp } from "@pregon/api";
import { Push } from "@pregon/core";
import { createPushSender } from "@pregon/functions/handlers/sender";
import { createInbox } from "@pregon/local/inbox";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { event, taken } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";

const app = createApp(settings);

// Only this client is mocked: the outbox's own SNS client keeps publishing to fauxqs.
const client = new SNSClient({ region: "us-east-1" });
const sns = mockClient(client);
afterEach(() => sns.reset());

const applications = {
  apns: "arn:aws:sns:us-east-1:123456789012:app/APNS/pregon",
  fcm: "arn:aws:sns:us-east-1:123456789012:app/GCM/pregon",
};

/** Runs a push sender on everything queued now, as the Lambda would. */
async function drain(sender: ReturnType<typeof createPushSender>) {
  for await (const records of taken("push")) {
    const { batchItemFailures } = await sender(event(...records));
    expect(batchItemFailures).toEqual([]);
  }
}

async function registered(secret: string, userId: string, platform: "apns" | "fcm", token: string) {
  const { status, body } = await callApp(app, secret, "POST", "/v1/devices", {
    userId,
    platform,
    token,
  });
  expect(status).toBe(201);
  return body as { id: string; userId: string; active: boolean };
}

describe("SNS mobile push adapter", () => {
  const sender = Push.snsPushGateway(client, applications);

  it("creates a platform endpoint for the device's token", async () => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: "arn:endpoint/1" });
    const arn = await sender.createEndpoint({ id: "device-1", platform: "fcm", token: "tok" });
    expect(arn).toBe("arn:endpoint/1");
    expect(sns.commandCalls(CreatePlatformEndpointCommand)[0]!.args[0].input).toEqual({
      PlatformApplicationArn: applications.fcm,
      Token: "tok",
      CustomUserData: "device-1",
    });
  });

  it("publishes APNs and FCM payloads to the endpoint", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const message = { title: "Hola", body: "Tu pedido", data: { orderId: "A-17" }, badge: 2 };
    await sender.publish({ deviceId: "d", platform: "apns", endpoint: "arn:e/apns" }, message);
    await sender.publish({ deviceId: "d", platform: "fcm", endpoint: "arn:e/fcm" }, message);
    const [apns, fcm] = sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(apns).toEqual({
      TargetArn: "arn:e/apns",
      MessageStructure: "json",
      Message: JSON.stringify({
        default: "Tu pedido",
        APNS: JSON.stringify({
          orderId: "A-17",
          aps: { alert: { title: "Hola", body: "Tu pedido" }, badge: 2 },
        }),
      }),
    });
    expect(fcm).toEqual({
      TargetArn: "arn:e/fcm",
      MessageStructure: "json",
      Message: JSON.stringify({
        default: "Tu pedido",
        GCM: JSON.stringify({
          fcmV1Message: {
            message: {
              notification: { title: "Hola", body: "Tu pedido" },
              data: { orderId: "A-17" },
            },
          },
        }),
      }),
    });
  });

  it("reports a disabled endpoint as such, and other errors as transient or permanent", async () => {
    const failWith = async (name: string) => {
      sns.reset();
      sns.on(PublishCommand).rejects(Object.assign(new Error(name), { name }));
      return sender
        .publish({ deviceId: "d", platform: "fcm", endpoint: "arn:e" }, { title: "t", body: "b" })
        .catch((e: unknown) => e);
    };
    expect(await failWith("EndpointDisabledException")).toBeInstanceOf(Push.EndpointDisabled);
    expect(await failWith("InvalidParameterException")).toMatchObject({ permanent: true });
    expect(await failWith("ThrottlingException")).toMatchObject({ permanent: false });
  });
});

describe("/v1/devices", () => {
  it("registers a token once, lists a user's devices and forgets one", async () => {
    const { secret } = await projectWithKey(["push:send"]);
    const phone = await registered(secret, "ana", "apns", "token-ana-phone");
    const tablet = await registered(secret, "ana", "fcm", "token-ana-tablet");
    // The same token again (another user signed in on the device): same device, moved.
    const again = await registered(secret, "bo", "apns", "token-ana-phone");
    expect(again).toMatchObject({ id: phone.id, userId: "bo", active: true });

    const list = (userId: string) =>
      callApp(app, secret, "GET", `/v1/devices?userId=${userId}`).then(({ body }) =>
        body.devices.map((d: { id: string }) => d.id),
      );
    expect(await list("ana")).toEqual([tablet.id]);
    expect(await list("bo")).toEqual([phone.id]);

    expect((await callApp(app, secret, "DELETE", `/v1/devices/${tablet.id}`)).status).toBe(200);
    expect(await list("ana")).toEqual([]);
    expect((await callApp(app, secret, "DELETE", `/v1/devices/${tablet.id}`)).status).toBe(404);
  });

  it("keeps each project's devices to itself", async () => {
    const mine = await projectWithKey(["push:send"]);
    const theirs = await projectWithKey(["push:send"]);
    const device = await registered(mine.secret, "ana", "fcm", "token-private");
    expect((await callApp(app, theirs.secret, "DELETE", `/v1/devices/${device.id}`)).status).toBe(
      404,
    );
    const push = await callApp(app, theirs.secret, "POST", "/v1/push", {
      deviceIds: [device.id],
      title: "t",
      body: "b",
    });
    expect(push.status).toBe(404);
    expect(push.body.message).toMatch(/^deviceIds\.0: /);
  });
});

describe("POST /v1/push", () => {
  it("reaches every device of the users, through the local pipeline into the inbox", async () => {
    const { secret } = await projectWithKey(["push:send"]);
    const inbox = createInbox();
    const a = await registered(secret, "ana", "apns", "t-ana-1");
    const b = await registered(secret, "ana", "fcm", "t-ana-2");
    const c = await registered(secret, "bo", "fcm", "t-bo-1");
    const accepted = await callApp(app, secret, "POST", "/v1/push", {
      userIds: ["ana", "ana"],
      deviceIds: [c.id],
      title: "Hola",
      body: "Tu pedido va en camino",
      data: { orderId: "A-17" },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body.recipients).toEqual({
      accepted: 3,
      suppressed: 0,
      unsubscribed: 0,
      duplicates: 1,
    });
    await drain(createPushSender({ gateway: inbox.pushGateway }));
    const pushed = inbox.contents().push;
    expect(pushed.map((p) => p.deviceId).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(pushed[0]).toMatchObject({
      title: "Hola",
      body: "Tu pedido va en camino",
      data: { orderId: "A-17" },
    });
  });

  it("creates each endpoint once, and a disabled endpoint makes its device inactive and skipped", async () => {
    const { secret } = await projectWithKey(["push:send", "notifications:read"]);
    const device = await registered(secret, "cy", "fcm", "t-cy-1");
    const sender = createPushSender({ gateway: Push.snsPushGateway(client, applications) });
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: "arn:endpoint/cy" });
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const send = () =>
      callApp(app, secret, "POST", "/v1/push", { userIds: ["cy"], title: "t", body: "b" });

    await send();
    await drain(sender);
    await send();
    await drain(sender);
    expect(sns.commandCalls(CreatePlatformEndpointCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input.TargetArn)).toEqual([
      "arn:endpoint/cy",
      "arn:endpoint/cy",
    ]);

    sns
      .on(PublishCommand)
      .rejects(
        Object.assign(new Error("Endpoint is disabled"), { name: "EndpointDisabledException" }),
      );
    const third = await send();
    await drain(sender);
    const deliveries = await callApp(
      app,
      secret,
      "GET",
      `/v1/notifications/${third.body.id}/deliveries`,
    );
    expect(deliveries.body.deliveries[0]).toMatchObject({ status: "failed" });
    const listed = await callApp(app, secret, "GET", "/v1/devices?userId=cy");
    expect(listed.body.devices).toEqual([
      expect.objectContaining({ id: device.id, active: false }),
    ]);

    const fourth = await send();
    expect(fourth.body.recipients).toEqual({
      accepted: 0,
      suppressed: 1,
      unsubscribed: 0,
      duplicates: 0,
    });
  });

  it("sends title and body as written: no template tag reads a file", async () => {
    const { secret } = await projectWithKey(["push:send"]);
    const inbox = createInbox();
    const device = await registered(secret, "dee", "fcm", "t-dee-1");
    const title = '{% include "package.json" %}';
    const body = "{% render 'package.json' %} {% layout \"package.json\" %}";
    const accepted = await callApp(app, secret, "POST", "/v1/push", {
      deviceIds: [device.id],
      title,
      body,
    });
    expect(accepted.status).toBe(202);
    await drain(createPushSender({ gateway: inbox.pushGateway }));
    const pushed = inbox.contents().push.filter((p) => p.deviceId === device.id);
    expect(pushed).toMatchObject([{ title, body }]);
    expect(JSON.stringify(pushed)).not.toContain('"private"');
  });

  it("needs a target", async () => {
    const { secret } = await projectWithKey(["push:send"]);
    const refused = await callApp(app, secret, "POST", "/v1/push", { title: "t", body: "b" });
    expect(refused.status).toBe(400);
    expect(refused.body.issues[0].path).toEqual(["userIds"]);
  });
});
