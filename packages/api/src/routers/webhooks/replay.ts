import * as Webhook from "@pregon/core/webhook";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleAttempt, exampleWebhook } from "../examples";

export const ReplayInput = z.strictObject({ id: z.uuid(), messageId: z.uuid() });

export const replay = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: {
      request: { id: exampleWebhook.id, messageId: exampleAttempt.messageId },
      response: { ...exampleAttempt, trigger: "manual" },
    },
    openapi: {
      method: "POST",
      path: "/v1/webhooks/{id}/messages/{messageId}/replay",
      tags: ["webhooks"],
      summary: "Send a webhook message again",
      description:
        "Sends one message to its endpoint again, now, with the same `webhook-id`, whatever became of it before; answers with the attempt.",
    },
  })
  .input(ReplayInput)
  .output(Webhook.Attempt)
  .mutation(({ input }) => Webhook.replay(input.id, input.messageId));
