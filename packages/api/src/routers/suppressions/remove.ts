import * as Suppression from "@pregon/core/suppression";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleSuppression } from "../examples";

export const remove = scopedProcedure("suppressions:write")
  .meta({
    errors: [404],
    example: {
      request: { channel: "email", address: "ana@example.com" },
      response: exampleSuppression,
    },
    openapi: {
      method: "DELETE",
      path: "/v1/suppressions",
      tags: ["suppressions"],
      summary: "Lift a suppression",
      description: "Sends to the address resume. 404 if it is not suppressed.",
    },
  })
  .input(z.strictObject({ channel: Suppression.Channel, address: z.string().min(1).max(320) }))
  .output(Suppression.Info)
  .mutation(({ input }) => Suppression.remove(input.channel, input.address));
