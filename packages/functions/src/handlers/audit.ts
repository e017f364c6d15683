import * as Actor from "@pregon/core/actor";
import * as Audit from "@pregon/core/audit";
import * as Log from "@pregon/core/log";
import * as Webhook from "@pregon/core/webhook";
import { queueConsumer } from "./sqs";

/**
 * The audit queue's consumer: each record is one fact from the events topic, recorded once (a
 * redelivered or republished fact is skipped by its hash), and made into a webhook message for
 * each of its project's endpoints that wants it (once per endpoint, however often it comes).
 */
export function createAuditHandler() {
  return queueConsumer(async (record) => {
    try {
      await Actor.provide({ type: "system", reason: "audit" }, async () => {
        await Audit.record([record.body]);
        await Webhook.fanOut([record.body]);
      });
    } catch (error) {
      Log.logger.error("audit record failed", { messageId: record.messageId, error });
      throw error;
    }
  });
}
