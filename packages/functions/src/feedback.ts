import { createFeedbackHandler } from "./handlers/feedback";
import { lambdaHandler, startLambda } from "./lambda";
// Every event it records is a fact it publishes: the SNS client is loaded at import.
import "./publisher-sns";

startLambda({ outbox: true });

/** The feedback queue's Lambda: SES events (bounces, complaints, deliveries) from the feedback topic. */
export const handler = lambdaHandler(createFeedbackHandler());
