import * as Suppression from "@pregon/core/suppression";
import { scopedProcedure } from "../../trpc";
import { exampleSuppression } from "../examples";

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
  .input(Suppression.AddInput)
  .output(Suppression.Info)
  .mutation(async ({ input }) => {
    await Suppression.add(input);
    return Suppression.get(input.channel, input.address);
  });
