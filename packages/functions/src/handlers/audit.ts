import { Actor, Audit, Log } from "@pregon/core";
import { queueConsumer } from "./sqs";

/**
 * The audit queue's consumer: each record is one fact from the events topic, recorded once (a
 * redelivered or republished fact is skipped by its hash).
 */
export function createAuditHandler() {
  return queueConsumer(async (record) => {
    try {
      await Actor.provide({ type: "system", reason: "audit" }, () => Audit.record([record.body]));
    } catch (error) {
      Log.logger.error("audit record failed", { messageId: record.messageId, error });
      throw error;
    }
  });
}
