import * as Webhook from "@pregon/core/webhook";
import { scopedProcedure } from "../../trpc";
import { exampleWebhook } from "../examples";
import { WebhookIdInput } from "./get";

export const rotateSecret = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: {
      request: { id: exampleWebhook.id },
      response: { ...exampleWebhook, secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD" },
    },
    openapi: {
      method: "POST",
      path: "/v1/webhooks/{id}/rotate-secret",
      tags: ["webhooks"],
      summary: "Rotate a webhook endpoint's secret",
      description:
        "Gives the endpoint a new secret, in this answer only. For 24 hours the old one signs too: `webhook-signature` carries both signatures, space-separated, so the receiver can switch with no gap.",
    },
  })
  .input(WebhookIdInput)
  .output(Webhook.EndpointWithSecret)
  .mutation(({ input }) => Webhook.rotateSecret(input.id));
