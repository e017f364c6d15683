import * as Webhook from "@pregon/core/webhook";
import { scopedProcedure } from "../../trpc";
import { exampleWebhook } from "../examples";

export const update = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: {
      request: { id: exampleWebhook.id, eventTypes: ["delivery.bounced"] },
      response: { ...exampleWebhook, eventTypes: ["delivery.bounced"] },
    },
    openapi: {
      method: "PATCH",
      path: "/v1/webhooks/{id}",
      tags: ["webhooks"],
      summary: "Change a webhook endpoint",
      description:
        "Changes the fields given. `status: disabled` stops its deliveries (messages not yet delivered are dropped) and is a `webhook.disabled` fact; `status: enabled` resumes them.",
    },
  })
  .input(Webhook.UpdateInput)
  .output(Webhook.Endpoint)
  .mutation(({ input }) => Webhook.update(input));
