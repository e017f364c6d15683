import { createAuditHandler } from "./handlers/audit";
import { lambdaHandler, startLambda } from "./lambda";

startLambda({ outbox: true });

/** The audit queue's Lambda: facts from the events topic into `audit_log` and webhook messages. */
export const handler = lambdaHandler(createAuditHandler());
