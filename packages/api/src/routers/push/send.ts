import * as Notification from "@pregon/core/notification";
import * as Push from "@pregon/core/push";
import { sendProcedure } from "../../trpc";
import { exampleDevice, exampleIds } from "../examples";

export const send = sendProcedure("push:send")
  .meta({
    successStatus: 202,
    errors: [404, 429],
    example: {
      request: {
        "Idempotency-Key": "order-1234-shipped-push",
        userIds: ["user-42"],
        deviceIds: [exampleDevice.id],
        title: "Your order is on its way",
        body: "Order A-17 left the warehouse.",
        data: { orderId: "A-17" },
        badge: 1,
        sound: "default",
      },
      response: {
        id: exampleIds.notification,
        channel: "push",
        status: "queued",
        recipients: { accepted: 2, suppressed: 0, unsubscribed: 0, duplicates: 0 },
      },
    },
    openapi: {
      method: "POST",
      path: "/v1/push",
      tags: ["push"],
      summary: "Send a push notification",
      description:
        "Sends to every active device of `userIds` and to `deviceIds` (at most 1,000 each), through SNS mobile push (APNs, FCM). Each device's platform endpoint is made on its first push and reused; one the provider reports disabled makes the device inactive. Inactive devices are skipped and counted as suppressed. An unknown device id is a 404 naming it.",
    },
  })
  .input(Push.SendInput)
  .output(Notification.acceptedOf("push"))
  .mutation(({ ctx, input }) => Push.send(input, { idempotencyKey: ctx.idempotencyKey }));
