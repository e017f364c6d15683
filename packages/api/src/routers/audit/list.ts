import { Audit } from "@pregon/core";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";

export const list = scopedProcedure("audit:read")
  .meta({
    openapi: {
      method: "GET",
      path: "/v1/audit",
      tags: ["audit"],
      summary: "List audit events",
      description:
        "The project's recorded facts (accepted, sent, failed, delivered, bounced, complained, suppressed, …), newest first; filter by type, subject and time; paginated by cursor.",
    },
  })
  .input(
    z.object({
      type: z.string().max(100).optional().meta({ description: "e.g. delivery.bounced" }),
      subjectId: z.uuid().optional().meta({ description: "A delivery, notification or OTP id" }),
      since: z.iso.datetime().optional(),
      until: z.iso.datetime().optional(),
      cursor: z.coerce
        .number()
        .int()
        .positive()
        .optional()
        .meta({ description: "nextCursor of the previous page" }),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  )
  .output(z.object({ events: z.array(Audit.Event), nextCursor: z.number().int().nullable() }))
  .query(({ ctx, input }) => Audit.list(ctx.principal.projectId, input));
