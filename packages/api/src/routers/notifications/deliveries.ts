import * as Delivery from "@pregon/core/delivery";
import * as Notification from "@pregon/core/notification";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleIds } from "../examples";

export const DeliveriesInput = z.strictObject({
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
    example: {
      request: { id: exampleIds.notification, limit: 100 },
      response: {
        deliveries: [
          {
            id: exampleIds.delivery,
            position: 0,
            to: "ana@example.com",
            status: "delivered",
            attempts: 1,
            providerMessageId: "0100018f-ses-message-id",
            error: null,
            updatedAt: "2025-06-01T12:00:30.000Z",
          },
        ],
        nextCursor: null,
      },
    },
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
  .query(async ({ input }) => {
    await Notification.find(input.id);
    return Delivery.list(input.id, input);
  });
