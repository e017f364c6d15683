import { createApp } from "@pregon/api";
import { handle } from "hono/aws-lambda";
import { lambdaHandler, startLambda } from "./lambda";
import { s3Templates } from "./templates";

const config = startLambda({ outbox: true, templates: s3Templates(), otp: true, webhooks: true });

/** API Gateway HTTP API (payload v2) -> the same Hono app the local server runs. */
export const handler = lambdaHandler(
  handle(createApp({ email: config.email, sms: config.sms }, { docsOrigin: config.docsOrigin })),
);
