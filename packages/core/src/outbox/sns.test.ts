import { SNSClient } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import { taken } from "../../../../test/support/email";
import { pipelines, stack } from "../../../../test/support/setup";
import { snsPublisher } from "./sns";

/** Every message body on the push queue (this file's alone), taken off it. */
async function drained(): Promise<string[]> {
  const bodies: string[] = [];
  for await (const records of taken("push")) bodies.push(...records.map((record) => record.body));
  return bodies;
}

describe("the SNS publisher", () => {
  it("publishes every body once, in batches of 10 made several at a time", async () => {
    const bodies = Array.from({ length: 205 }, (_, i) =>
      JSON.stringify({ deliveryIds: [`d${i}`] }),
    );
    await snsPublisher(new SNSClient(stack.aws), pipelines.topics).publish("push", bodies);
    expect((await drained()).sort()).toEqual([...bodies].sort());
  });

  it("makes the other calls when one fails, then throws", async () => {
    const calls: number[] = [];
    const sns = new SNSClient(stack.aws);
    const real = sns.send.bind(sns);
    sns.send = (async (command: { input: { PublishBatchRequestEntries: unknown[] } }) => {
      calls.push(command.input.PublishBatchRequestEntries.length);
      if (calls.length === 1) throw new Error("SNS is down");
      return real(command as never);
    }) as typeof sns.send;
    const bodies = Array.from({ length: 30 }, (_, i) => JSON.stringify({ deliveryIds: [`e${i}`] }));
    await expect(snsPublisher(sns, pipelines.topics).publish("push", bodies)).rejects.toThrow(
      "SNS is down",
    );
    expect(calls).toEqual([10, 10, 10]);
    expect(await drained()).toHaveLength(20);
  });
});
