import { createAuditHandler } from "./handlers/audit";
import { lambdaHandler, startLambda } from "./lambda";

startLambda();

/** The audit queue's Lambda: facts from the events topic into `audit_log`. */
export const handler = lambdaHandler(createAuditHandler());
