import * as Otp from "@pregon/core/otp";
import { scopedProcedure } from "../../trpc";
import { exampleOtp } from "../examples";

export const send = scopedProcedure("otp:send")
  .meta({
    successStatus: 201,
    errors: [404, 429],
    example: {
      request: {
        channel: "email",
        to: "ana@example.com",
        purpose: "login",
        clientIp: "203.0.113.7",
      },
      response: {
        id: exampleOtp.id,
        channel: "email",
        to: exampleOtp.to,
        expiresAt: exampleOtp.expiresAt,
        resendAvailableAt: "2025-06-01T12:00:30.000Z",
      },
    },
    openapi: {
      method: "POST",
      path: "/v1/otp",
      tags: ["otp"],
      summary: "Send a one-time code",
      description:
        "Creates a one-time code for a destination and sends it. The code is generated when the message is sent and only its HMAC is stored. Refused with 429 (and Retry-After) within 30 s of the previous code for the destination, past 5 codes per destination in 10 minutes, per-IP and per-project velocity limits, or while the destination is locked after 10 wrong codes in an hour.",
    },
  })
  .input(Otp.SendInput)
  .output(Otp.Sent)
  .mutation(({ ctx, input }) => Otp.send(input, ctx.settings));
