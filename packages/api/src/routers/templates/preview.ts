import * as Template from "@pregon/core/template";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleTemplate } from "../examples";

export const preview = scopedProcedure("templates:read")
  .meta({
    example: {
      request: { key: "welcome", locale: "es-MX", variables: { name: "Ana" } },
      response: { ...exampleTemplate, subject: "Hola Ana", html: "<p>Bienvenida, Ana</p>" },
    },
    openapi: {
      method: "POST",
      path: "/v1/templates/{key}/preview",
      tags: ["templates"],
      summary: "Render a template",
      description: "Renders the template as a send would, with the given variables. Sends nothing.",
    },
  })
  .input(
    z.strictObject({
      key: Template.Key,
      locale: Template.Locale.optional(),
      variables: z.record(z.string(), z.unknown()).optional(),
    }),
  )
  .output(
    Template.Info.extend({
      subject: z.string(),
      html: z.string().optional(),
      text: z.string().optional(),
    }),
  )
  .mutation(({ input }) => Template.preview(input.key, input.locale, input.variables ?? {}));
