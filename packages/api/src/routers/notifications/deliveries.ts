import { Delivery, Notification } from "@pregon/core";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";

export const DeliveriesInput = z.object({
  id: z.uuid(),
  cursor: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: "nextCursor of the previous page" }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const DeliveriesOutput = z.object({
  deliveries: z.array(Delivery.Info),
  nextCursor: z.number().int().nullable().meta({ description: "null on the last page" }),
});

export const deliveries = scopedProcedure("notifications:read")
  .meta({
    openapi: {
      method: "GET",
      path: "/v1/notifications/{id}/deliveries",
      tags: ["notifications"],
      summary: "List a notification's deliveries",
      description: "One row per recipient, in request order, with its status; paginated by cursor.",
    },
  })
  .input(DeliveriesInput)
  .output(DeliveriesOutput)
  .query(async ({ ctx, input }) => {
    await Notification.find(ctx.principal.projectId, input.id);
    return Delivery.list(ctx.principal.projectId, input.id, input);
  });
