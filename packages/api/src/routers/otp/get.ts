import * as Otp from "@pregon/core/otp";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleOtp } from "../examples";

export const get = scopedProcedure("otp:send")
  .meta({
    example: { request: { id: exampleOtp.id }, response: exampleOtp },
    openapi: {
      method: "GET",
      path: "/v1/otp/{id}",
      tags: ["otp"],
      summary: "Get a one-time code's status",
      description: "Its status and remaining checks; never the code.",
    },
  })
  .input(z.strictObject({ id: z.uuid() }))
  .output(Otp.Status)
  .query(({ input }) => Otp.get(input.id));
