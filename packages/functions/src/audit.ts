import { createAuditHandler } from "./handlers/audit";
import { startLambda } from "./lambda";
import { tracedHandler } from "./tracing";

startLambda({ outbox: true });

/** The audit queue's Lambda: facts from the events topic into `audit_log` and webhook messages. */
export const handler = tracedHandler(createAuditHandler());
