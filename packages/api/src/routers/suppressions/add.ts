import { Suppression } from "@pregon/core";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleSuppression } from "../examples";

export const AddSuppressionInput = z
  .strictObject({
    channel: Suppression.Channel,
    address: z.string().min(1).max(320),
    reason: Suppression.Reason.default("manual"),
  })
  .superRefine((input, ctx) => {
    const valid =
      input.channel === "email"
        ? z.email().safeParse(input.address).success
        : input.channel === "sms"
          ? /^\+[1-9]\d{6,14}$/.test(input.address)
          : true;
    if (!valid) {
      ctx.addIssue({
        code: "custom",
        path: ["address"],
        message: input.channel === "email" ? "must be an email address" : "must be an E.164 number",
      });
    }
  });

export const add = scopedProcedure("suppressions:write")
  .meta({
    successStatus: 201,
    example: {
      request: { channel: "email", address: "ana@example.com", reason: "manual" },
      response: exampleSuppression,
    },
    openapi: {
      method: "POST",
      path: "/v1/suppressions",
      tags: ["suppressions"],
      summary: "Suppress an address",
      description:
        "Sends to this address on this channel are skipped from now on and counted as suppressed. Adding it again keeps the first reason.",
    },
  })
  .input(AddSuppressionInput)
  .output(Suppression.Info)
  .mutation(async ({ input }) => {
    await Suppression.add(input);
    return Suppression.get(input.channel, input.address);
  });
