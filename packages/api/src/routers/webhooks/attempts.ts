import * as Webhook from "@pregon/core/webhook";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleAttempt, exampleWebhook } from "../examples";

export const AttemptsInput = z.strictObject({
  id: z.uuid(),
  messageId: z.uuid().optional().meta({ description: "Only this message's attempts" }),
  cursor: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const AttemptsOutput = z.object({
  attempts: z.array(Webhook.Attempt),
  nextCursor: z.number().int().nullable(),
});

export const attempts = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: {
      request: { id: exampleWebhook.id, limit: 50 },
      response: { attempts: [exampleAttempt], nextCursor: null },
    },
    openapi: {
      method: "GET",
      path: "/v1/webhooks/{id}/attempts",
      tags: ["webhooks"],
      summary: "List a webhook endpoint's delivery attempts",
      description:
        "Every attempt to deliver a message to the endpoint, newest first: its status, the answer's status code and first bytes, and how long it took.",
    },
  })
  .input(AttemptsInput)
  .output(AttemptsOutput)
  .query(({ input }) => Webhook.listAttempts(input));
