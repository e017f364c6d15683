import { createFeedbackHandler } from "./handlers/feedback";
import { startLambda } from "./lambda";
import { tracedHandler } from "./tracing";

startLambda({ outbox: true });

/** The feedback queue's Lambda: SES events (bounces, complaints, deliveries) from the feedback topic. */
export const handler = tracedHandler(createFeedbackHandler());
