import { PublishBatchCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Publisher, Topic } from "./index";

/** PublishBatch calls in flight at once, for many messages (a sender's facts, a bulk send's messages). */
const concurrency = 8;

/** The Publisher port on SNS: PublishBatch, 10 messages a call, a few calls at once. */
export function snsPublisher(sns: SNSClient, topicArns: Record<Topic, string>): Publisher {
  const publishTen = async (topic: Topic, bodies: string[]) => {
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
  };
  return {
    async publish(topic, bodies) {
      let next = 0;
      let failed = false;
      // Each worker takes the next ten until none are left; the first failure stops them all and
      // fails the publish (the sweeper repeats the whole of it).
      const worker = async () => {
        for (let start = next; start < bodies.length && !failed; start = next) {
          next += 10;
          await publishTen(topic, bodies.slice(start, start + 10)).catch((error: unknown) => {
            failed = true;
            throw error;
          });
        }
      };
      const workers = Math.min(concurrency, Math.ceil(bodies.length / 10));
      await Promise.all(Array.from({ length: workers }, worker));
    },
  };
}
