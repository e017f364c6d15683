import { createApp } from "@pregon/api";
import { handle } from "hono/aws-lambda";
import { lambdaHandler, startLambda } from "./lambda";

const config = startLambda({ outbox: true, templates: true, otp: true, webhooks: true });

/** API Gateway HTTP API (payload v2) -> the same Hono app the local server runs. */
export const handler = lambdaHandler(handle(createApp({ email: config.email, sms: config.sms })));
