import { Database } from "@pregon/core";
import { loadLambdaConfig } from "./config";
import { createAuditHandler } from "./handlers/audit";

const config = loadLambdaConfig();
Database.configure({ url: config.databaseUrl, max: 1, prepare: false });

/** The audit queue's Lambda: facts from the events topic into `audit_log`. */
export const handler = createAuditHandler();
