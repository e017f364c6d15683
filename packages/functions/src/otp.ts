import { createApp } from "@pregon/api";
import { handle } from "hono/aws-lambda";
import { lambdaHandler, startLambda } from "./lambda";
// Every send and check publishes (a message, a fact): the SNS client is loaded at import, where
// Lambda may start the instance before any request, not by the first request.
import "./publisher-sns";

// OTP needs no templates bucket: its own templates are rows (Template.resolve), rendered by senders.
const config = startLambda({ outbox: true, otp: true });

/**
 * The OTP routes only (infra/settings.ts `otpRoutes`) -> the same Hono app
 * as the http function, with this function's narrower links and permissions.
 */
export const handler = lambdaHandler(handle(createApp({ email: config.email, sms: config.sms })));
