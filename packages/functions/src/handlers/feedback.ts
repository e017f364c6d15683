import * as Actor from "@pregon/core/actor";
import * as Database from "@pregon/core/db";
import * as Delivery from "@pregon/core/delivery";
import * as Log from "@pregon/core/log";
import * as Suppression from "@pregon/core/suppression";
import { z } from "zod";
import { parseBody, queueConsumer, ReceiveAgain } from "./sqs";

/**
 * An SES event (configuration set event publishing, or the older notifications), as SNS delivers it
 * raw to the feedback queue. Only what Pregón reads is described.
 */
const SesEvent = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.object({
    messageId: z.string(),
    tags: z.record(z.string(), z.array(z.string())).optional(),
  }),
  bounce: z
    .object({
      bounceType: z.string(),
      bouncedRecipients: z.array(z.object({ diagnosticCode: z.string().optional() })).optional(),
    })
    .optional(),
  reject: z.object({ reason: z.string() }).optional(),
  deliveryDelay: z.object({ delayType: z.string() }).optional(),
});
type SesEvent = z.infer<typeof SesEvent>;

/** Suppresses the address of a delivery that bounced for good or drew a complaint, in its project. */
const suppress = (moved: { projectId: string; address: string }, reason: "bounce" | "complaint") =>
  Actor.provide({ type: "system", reason: "feedback", projectId: moved.projectId }, () =>
    Suppression.add({ channel: "email", address: moved.address, reason }),
  );

/**
 * Applies one event. A hard bounce or a complaint also suppresses the address for the delivery's
 * project (a soft bounce does not), in the transaction that moves the delivery: a redelivered event
 * finds the delivery moved and changes nothing, so the suppression cannot be left out.
 */
async function apply(event: SesEvent): Promise<void> {
  const type = event.eventType ?? event.notificationType;
  const deliveryId = event.mail.tags?.delivery_id?.[0];
  if (!deliveryId) return;
  const metricOf = {
    delivered: "EmailsDelivered",
    failed: "EmailsRejected",
    bounced: "EmailsBounced",
    complained: "EmailsComplained",
  };
  const move = async (status: Delivery.FeedbackStatus, error?: string) => {
    const moved = await Delivery.advance(deliveryId, status, error);
    if (moved) Log.count(metricOf[status]);
    return moved;
  };
  switch (type) {
    case "Delivery":
      await move("delivered");
      return;
    case "Bounce": {
      const permanent = event.bounce?.bounceType === "Permanent";
      const diagnostic = event.bounce?.bouncedRecipients?.[0]?.diagnosticCode;
      await Database.transaction(async () => {
        const moved = await move(
          "bounced",
          `${event.bounce?.bounceType} bounce${diagnostic ? `: ${diagnostic}` : ""}`,
        );
        if (moved && permanent) await suppress(moved, "bounce");
      });
      return;
    }
    case "Complaint":
      await Database.transaction(async () => {
        const moved = await move("complained");
        if (moved) await suppress(moved, "complaint");
      });
      return;
    case "Reject":
      await move("failed", `rejected by SES: ${event.reject?.reason}`);
      return;
    case "DeliveryDelay":
      await Delivery.noteDelay(deliveryId, event.deliveryDelay?.delayType ?? "unknown");
      return;
    default:
    // Send, Open, Click…: no status of Pregón's changes.
  }
}

/** The feedback queue's consumer: SES events -> delivery statuses and the suppression list. */
export function createFeedbackHandler() {
  return queueConsumer(async (record) => {
    const sesEvent = parseBody(SesEvent, record.body);
    if (!sesEvent) {
      Log.logger.error("malformed SES event", { messageId: record.messageId });
      throw new ReceiveAgain("malformed SES event");
    }
    try {
      await Actor.provide({ type: "system", reason: "feedback" }, () => apply(sesEvent));
    } catch (error) {
      Log.logger.error("feedback failed", { messageId: record.messageId, error });
      throw error;
    }
  });
}
