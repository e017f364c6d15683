import { createFeedbackHandler } from "./handlers/feedback";
import { lambdaHandler, startLambda } from "./lambda";

startLambda({ outbox: true });

/** The feedback queue's Lambda: SES events (bounces, complaints, deliveries) from the feedback topic. */
export const handler = lambdaHandler(createFeedbackHandler());
