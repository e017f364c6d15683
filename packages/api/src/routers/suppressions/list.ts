import * as Suppression from "@pregon/core/suppression";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleSuppression } from "../examples";

export const list = scopedProcedure("suppressions:read")
  .meta({
    example: {
      request: { channel: "email", limit: 100 },
      response: { suppressions: [exampleSuppression], nextCursor: null },
    },
    openapi: {
      method: "GET",
      path: "/v1/suppressions",
      tags: ["suppressions"],
      summary: "List suppressed addresses",
      description:
        "Addresses the project never sends to (hard bounces, complaints, manual), by address; paginated by cursor.",
    },
  })
  .input(
    z.strictObject({
      channel: Suppression.Channel.optional(),
      cursor: z
        .string()
        .max(320)
        .optional()
        .meta({ description: "nextCursor of the previous page" }),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  )
  .output(
    z.object({
      suppressions: z.array(Suppression.Info),
      nextCursor: z.string().nullable().meta({ description: "null on the last page" }),
    }),
  )
  .query(({ input }) => Suppression.list(input));
