import { createAuditHandler } from "./handlers/audit";
import { startLambda } from "./lambda";
import { tracedHandler } from "./tracing";

startLambda();

/** The audit queue's Lambda: facts from the events topic into `audit_log`. */
export const handler = tracedHandler(createAuditHandler());
