import { PublishBatchCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Publisher, Topic } from "./index";

/** The Publisher port on SNS: PublishBatch, 10 messages a call. */
export function snsPublisher(sns: SNSClient, topicArns: Record<Topic, string>): Publisher {
  return {
    async publish(topic, bodies) {
      for (let start = 0; start < bodies.length; start += 10) {
        const entries = bodies
          .slice(start, start + 10)
          .map((body, i) => ({ Id: String(i), Message: body }));
        const result = await sns.send(
          new PublishBatchCommand({
            TopicArn: topicArns[topic],
            PublishBatchRequestEntries: entries,
          }),
        );
        if (result.Failed?.length) {
          const [first] = result.Failed;
          throw new Error(
            `SNS refused ${result.Failed.length} of ${entries.length} messages: ${first?.Code} ${first?.Message ?? ""}`,
          );
        }
      }
    },
  };
}
