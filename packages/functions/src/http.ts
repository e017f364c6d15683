import { SNSClient } from "@aws-sdk/client-sns";
import { createApp } from "@pregon/api";
import { Database, Outbox, snsPublisher } from "@pregon/core";
import { handle } from "hono/aws-lambda";
import { linkedTopicArns, loadLambdaConfig } from "./config";

const config = loadLambdaConfig();
// One connection per Lambda; RDS Proxy pools them and cannot keep prepared statements.
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));

/** API Gateway HTTP API (payload v2) -> the same Hono app the local server runs. */
export const handler = handle(createApp({ email: config.email }));
