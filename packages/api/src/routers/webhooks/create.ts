import * as Webhook from "@pregon/core/webhook";
import { scopedProcedure } from "../../trpc";
import { exampleWebhook } from "../examples";

export const create = scopedProcedure("admin")
  .meta({
    successStatus: 201,
    example: {
      request: {
        url: exampleWebhook.url,
        description: exampleWebhook.description,
        eventTypes: exampleWebhook.eventTypes,
      },
      response: { ...exampleWebhook, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    },
    openapi: {
      method: "POST",
      path: "/v1/webhooks",
      tags: ["webhooks"],
      summary: "Create a webhook endpoint",
      description:
        "Makes an endpoint of the caller's project: the facts of the types in `eventTypes` (every type when empty) are POSTed to `url` as Standard Webhooks, signed with the endpoint's secret. The secret (`whsec_…`) is in this answer and never again. `url` must be HTTPS to a public address.",
    },
  })
  .input(Webhook.CreateInput)
  .output(Webhook.EndpointWithSecret)
  .mutation(({ input }) => Webhook.create(input));
