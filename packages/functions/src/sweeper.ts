import { SNSClient } from "@aws-sdk/client-sns";
import { Database, Outbox, snsPublisher } from "@pregon/core";
import { linkedTopicArns, loadLambdaConfig } from "./config";
import { createSweeper } from "./handlers/sweeper";

const config = loadLambdaConfig();
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));

/** The cron sweeper's Lambda (EventBridge schedule). */
export const handler = createSweeper();
