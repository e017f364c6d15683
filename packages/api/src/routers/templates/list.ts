import * as Template from "@pregon/core/template";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleTemplate } from "../examples";

export const list = scopedProcedure("templates:read")
  .meta({
    example: { response: { templates: [exampleTemplate] } },
    openapi: {
      method: "GET",
      path: "/v1/templates",
      tags: ["templates"],
      summary: "List templates",
      description: "Every template of the project, one row per locale, with its current version.",
    },
  })
  .input(z.strictObject({}).optional())
  .output(z.object({ templates: z.array(Template.Info) }))
  .query(async () => ({ templates: await Template.list() }));
