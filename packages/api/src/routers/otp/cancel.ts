import * as Otp from "@pregon/core/otp";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleOtp } from "../examples";

export const cancel = scopedProcedure("otp:send")
  .meta({
    example: { request: { id: exampleOtp.id }, response: { ...exampleOtp, status: "canceled" } },
    openapi: {
      method: "POST",
      path: "/v1/otp/{id}/cancel",
      tags: ["otp"],
      summary: "Cancel a one-time code",
      description: "It can no longer be verified; if its message was not sent yet, it is not sent.",
    },
  })
  .input(z.strictObject({ id: z.uuid() }))
  .output(Otp.Status)
  .mutation(({ input }) => Otp.cancel(input.id));
