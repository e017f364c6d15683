import * as Template from "@pregon/core/template";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleTemplate } from "../examples";

export const get = scopedProcedure("templates:read")
  .meta({
    example: {
      request: { key: "welcome", locale: "es-MX" },
      response: {
        ...exampleTemplate,
        subject: "Hola {{ name }}",
        html: "<p>Bienvenida, {{ name }}</p>",
      },
    },
    openapi: {
      method: "GET",
      path: "/v1/templates/{key}",
      tags: ["templates"],
      summary: "Get a template",
      description:
        "The current version for the locale, falling back from es-MX to es to the default version.",
    },
  })
  .input(z.strictObject({ key: Template.Key, locale: Template.Locale.optional() }))
  .output(Template.Info.extend(Template.Source.shape))
  .query(({ input }) => Template.get(input.key, input.locale));
