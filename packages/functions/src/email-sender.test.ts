import { Email } from "@pregon/core";
import type { Context, ScheduledEvent, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { acknowledge, mailbox, receiveAll, uniqueDomain } from "../../../test/support/email";
import { lambdaEnvironment, projectWithKey, settings } from "../../../test/support/fixtures";
import { pipelines, stack } from "../../../test/support/setup";
import scheduledSample from "./fixtures/scheduled-event.json";
import sqsSample from "./fixtures/sqs-event.json";

lambdaEnvironment(pipelines.topics, stack.aws, stack.mailboxUrl);
process.env.PREGON_SES_MAX_SEND_RATE = "100";
const sender = await import("./email-sender");
const sweeper = await import("./sweeper");
const context = {
  awsRequestId: "test",
  functionName: "email-sender",
  getRemainingTimeInMillis: () => 30_000,
} as Context;

describe("the email sender Lambda", () => {
  it("sends the deliveries named by an SQS event as Lambda delivers it", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const to = [`a@${domain}`, `b@${domain}`];
    await as(() => Email.send({ to, subject: "Hi", text: "Hello" }, settings.email));
    const [received] = await receiveAll(1);

    const event: SQSEvent = {
      Records: [{ ...sqsSample.Records[0]!, messageId: received!.messageId, body: received!.body }],
    };
    expect(await sender.handler(event, context)).toEqual({ batchItemFailures: [] });
    expect((await mailbox(domain)).map((email) => email.destination.to[0]).sort()).toEqual(to);
    await acknowledge([received!]);
  });

  it("reports a malformed message as failed, so it ends in the DLQ", async () => {
    const event = sqsSample as SQSEvent; // body "Test message."
    expect(await sender.handler(event, context)).toEqual({
      batchItemFailures: [{ itemIdentifier: sqsSample.Records[0]!.messageId }],
    });
  });
});

describe("the sweeper Lambda", () => {
  it("runs on an EventBridge scheduled event", async () => {
    const result = await sweeper.handler(scheduledSample as ScheduledEvent);
    expect(result).toEqual({
      requeued: 0,
      stranded: 0,
      completed: 0,
      republished: 0,
      purged: 0,
      forgotten: 0,
      counters: 0,
      otps: 0,
      webhookMessages: 0,
      paused: 0,
    });
  });
});
