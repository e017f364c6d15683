import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { createApp } from "@pregon/api";
import { Database, Otp, Outbox, snsPublisher, Template } from "@pregon/core";
import { handle } from "hono/aws-lambda";
import { linkedTemplatesBucket, linkedTopicArns, loadLambdaConfig } from "./config";

const config = loadLambdaConfig();
// One connection per Lambda; RDS Proxy pools them and cannot keep prepared statements.
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });
Outbox.configure(snsPublisher(new SNSClient({}), linkedTopicArns()));
Template.configure(Template.s3Store(new S3Client({}), linkedTemplatesBucket()));
Otp.configure({ pepper: config.otpPepper });

/** API Gateway HTTP API (payload v2) -> the same Hono app the local server runs. */
export const handler = handle(createApp({ email: config.email }));
