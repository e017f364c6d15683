import { Notification } from "@pregon/core";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";

export const get = scopedProcedure("notifications:read")
  .meta({
    openapi: {
      method: "GET",
      path: "/v1/notifications/{id}",
      tags: ["notifications"],
      summary: "Get a notification's status",
      description:
        "The notification's status (queued, sending, completed), its recipient counts and how many deliveries are in each status.",
    },
  })
  .input(z.object({ id: z.uuid() }))
  .output(Notification.Info)
  .query(({ ctx, input }) => Notification.get(ctx.principal.projectId, input.id));
