import { SNSClient } from "@aws-sdk/client-sns";
import { Database, Outbox, snsPublisher } from "@pregon/core";
import { linkedTopicArns, loadLambdaConfig } from "./config";
import { createFeedbackHandler } from "./handlers/feedback";

const config = loadLambdaConfig();
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));

/** The feedback queue's Lambda: SES events (bounces, complaints, deliveries) from the feedback topic. */
export const handler = createFeedbackHandler();
