import * as Email from "@pregon/core/email";
import * as Notification from "@pregon/core/notification";
import { sendProcedure } from "../../trpc";
import { exampleIds } from "../examples";

export const send = sendProcedure("emails:send")
  .meta({
    successStatus: 202,
    errors: [404, 429],
    example: {
      request: {
        "Idempotency-Key": "order-1234-receipt",
        to: ["ana@example.com", { email: "bo@example.com", name: "Bo", variables: { name: "Bo" } }],
        from: "Pregón <no-reply@pregon.test>",
        subject: "Hola {{ name }}",
        html: "<p>Your order {{ order }} is on its way</p>",
        variables: { name: "there", order: "A-17" },
      },
      response: {
        id: exampleIds.notification,
        channel: "email",
        status: "queued",
        recipients: { accepted: 2, suppressed: 0, unsubscribed: 0, duplicates: 0 },
      },
    },
    openapi: {
      method: "POST",
      path: "/v1/emails",
      tags: ["emails"],
      summary: "Send an email to many recipients",
      description:
        "Accepts one email for each of 1 to 10,000 recipients. Subject, HTML and text are LiquidJS templates rendered per recipient with the shared variables overlaid by the recipient's own (HTML-escaped in HTML). Repeated addresses are dropped, the first occurrence wins. Sending happens after the 202: follow it at GET /v1/notifications/{id}.",
    },
  })
  .input(Email.SendInput)
  .output(Notification.acceptedOf("email"))
  .mutation(({ ctx, input }) =>
    Email.send(input, ctx.settings.email, { idempotencyKey: ctx.idempotencyKey }),
  );
