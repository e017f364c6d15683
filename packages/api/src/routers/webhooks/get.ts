import * as Webhook from "@pregon/core/webhook";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleWebhook } from "../examples";

export const WebhookIdInput = z.strictObject({ id: z.uuid() });

export const get = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: { request: { id: exampleWebhook.id }, response: exampleWebhook },
    openapi: {
      method: "GET",
      path: "/v1/webhooks/{id}",
      tags: ["webhooks"],
      summary: "Get a webhook endpoint",
      description: "A webhook endpoint of the caller's project, without its secret.",
    },
  })
  .input(WebhookIdInput)
  .output(Webhook.Endpoint)
  .query(({ input }) => Webhook.get(input.id));
