import * as Webhook from "@pregon/core/webhook";
import { scopedProcedure } from "../../trpc";
import { exampleWebhook } from "../examples";
import { WebhookIdInput } from "./get";

export const remove = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: { request: { id: exampleWebhook.id }, response: exampleWebhook },
    openapi: {
      method: "DELETE",
      path: "/v1/webhooks/{id}",
      tags: ["webhooks"],
      summary: "Delete a webhook endpoint",
      description: "Deletes a webhook endpoint with its messages and their attempts.",
    },
  })
  .input(WebhookIdInput)
  .output(Webhook.Endpoint)
  .mutation(({ input }) => Webhook.remove(input.id));
