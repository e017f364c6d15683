import { PublishBatchCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Publisher, Topic } from "./index";

/** PublishBatch calls under way at once for one publish. */
const concurrency = 10;

/**
 * The Publisher port on SNS: PublishBatch, 10 messages a call, up to `concurrency` calls at once
 * (a 10,000-recipient send has 200 queue messages: 20 calls, whose round trips would otherwise add
 * up before its 202). A failed call stops none of the others; once they are over the first
 * failure is thrown, and the rows are left to the sweeper, which publishes them again whole.
 */
export function snsPublisher(sns: SNSClient, topicArns: Record<Topic, string>): Publisher {
  async function publishBatch(topic: Topic, bodies: string[]) {
    const entries = bodies.map((body, i) => ({ Id: String(i), Message: body }));
    const result = await sns.send(
      new PublishBatchCommand({ TopicArn: topicArns[topic], PublishBatchRequestEntries: entries }),
    );
    if (result.Failed?.length) {
      const [first] = result.Failed;
      throw new Error(
        `SNS refused ${result.Failed.length} of ${entries.length} messages: ${first?.Code} ${first?.Message ?? ""}`,
      );
    }
  }
  return {
    async publish(topic, bodies) {
      const batches: string[][] = [];
      for (let start = 0; start < bodies.length; start += 10) {
        batches.push(bodies.slice(start, start + 10));
      }
      let next = 0;
      const workers = Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
        while (next < batches.length) await publishBatch(topic, batches[next++]!);
      });
      const failed = (await Promise.allSettled(workers)).find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}
