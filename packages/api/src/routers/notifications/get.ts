import * as Notification from "@pregon/core/notification";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleIds, exampleTime } from "../examples";

export const get = scopedProcedure("notifications:read")
  .meta({
    example: {
      request: { id: exampleIds.notification },
      response: {
        id: exampleIds.notification,
        channel: "email",
        status: "sending",
        recipients: { accepted: 2, suppressed: 0, unsubscribed: 0, duplicates: 0 },
        counts: { delivered: 1, queued: 1 },
        createdAt: exampleTime,
      },
    },
    openapi: {
      method: "GET",
      path: "/v1/notifications/{id}",
      tags: ["notifications"],
      summary: "Get a notification's status",
      description:
        "The notification's status (queued, sending, completed), its recipient counts and how many deliveries are in each status.",
    },
  })
  .input(z.strictObject({ id: z.uuid() }))
  .output(Notification.Info)
  .query(({ input }) => Notification.get(input.id));
