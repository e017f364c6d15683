import { SNSClient } from "@aws-sdk/client-sns";
import type { Topic } from "@pregon/core/outbox";
import { snsPublisher } from "@pregon/core/outbox/sns";
import { traced } from "./tracing";

/** The publisher on SNS, through a client of its own (`snsTopics` imports this on first use). */
export const snsTopicsPublisher = (topicArns: Record<Topic, string>) =>
  snsPublisher(traced(new SNSClient({})), topicArns);
