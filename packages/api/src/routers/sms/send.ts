import * as Notification from "@pregon/core/notification";
import * as Sms from "@pregon/core/sms";
import { sendProcedure } from "../../trpc";
import { exampleIds } from "../examples";

export const send = sendProcedure("sms:send")
  .meta({
    successStatus: 202,
    errors: [404, 429],
    example: {
      request: {
        "Idempotency-Key": "order-1234-shipped",
        to: ["+34600111222", { phone: "+5215512345678", variables: { name: "Bo" } }],
        text: "Hola {{ name }}, tu pedido {{ order }} va en camino.",
        variables: { name: "Ana", order: "A-17" },
      },
      response: {
        id: exampleIds.notification,
        channel: "sms",
        status: "queued",
        recipients: { accepted: 2, suppressed: 0, unsubscribed: 0, duplicates: 0 },
      },
    },
    openapi: {
      method: "POST",
      path: "/v1/sms",
      tags: ["sms"],
      summary: "Send an SMS to many numbers",
      description:
        "Accepts one SMS for each of 1 to 1,000 E.164 numbers, through SNS. The text (or a stored template's text) is a LiquidJS template rendered per number; long texts go as several segments, counted on each delivery. Numbers outside the allowed countries are refused (400 sms_country_not_allowed) and recorded as fraud events; repeated numbers are dropped; suppressed ones are skipped and counted. The project's daily SMS budget (recipients per day) refuses sends past it with 429. Follow the send at GET /v1/notifications/{id}.",
    },
  })
  .input(Sms.SendInput)
  .output(Notification.acceptedOf("sms"))
  .mutation(({ ctx, input }) =>
    Sms.send(input, ctx.settings.sms, { idempotencyKey: ctx.idempotencyKey }),
  );
