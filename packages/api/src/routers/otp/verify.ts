import * as Otp from "@pregon/core/otp";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleOtp } from "../examples";

export const verify = scopedProcedure("otp:verify")
  .meta({
    example: {
      request: { id: exampleOtp.id, code: "042917" },
      response: { valid: false, reason: "invalid", attemptsRemaining: 4 },
    },
    openapi: {
      method: "POST",
      path: "/v1/otp/verify",
      tags: ["otp"],
      summary: "Check a one-time code",
      description:
        "Single use, bound to its id, at most 5 checks per code. Answers 200 either way: `{valid: true}` or `{valid: false, reason, attemptsRemaining}`.",
    },
  })
  .input(z.strictObject({ id: z.string().max(64), code: z.string().max(32) }))
  .output(Otp.Verified)
  .mutation(({ input }) => Otp.verify(input.id, input.code));
