import * as Webhook from "@pregon/core/webhook";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleWebhook } from "../examples";

export const ListWebhooksOutput = z.object({ endpoints: z.array(Webhook.Endpoint) });

export const list = scopedProcedure("admin")
  .meta({
    example: { response: { endpoints: [exampleWebhook] } },
    openapi: {
      method: "GET",
      path: "/v1/webhooks",
      tags: ["webhooks"],
      summary: "List webhook endpoints",
      description: "Lists the caller's project's webhook endpoints, oldest first.",
    },
  })
  .input(z.strictObject({}).optional())
  .output(ListWebhooksOutput)
  .query(async () => ({ endpoints: await Webhook.list() }));
