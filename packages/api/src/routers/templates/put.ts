import * as Template from "@pregon/core/template";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleTemplate } from "../examples";

export const PutTemplateInput = z.strictObject({
  ...Template.Source.shape,
  key: Template.Key,
  locale: Template.Locale.optional().meta({ description: "Omit for the default version" }),
});

export const put = scopedProcedure("templates:write")
  .meta({
    example: {
      request: {
        key: "welcome",
        locale: "es-MX",
        subject: "Hola {{ name }}",
        html: "<p>Bienvenida, {{ name }}</p>",
      },
      response: exampleTemplate,
    },
    openapi: {
      method: "PUT",
      path: "/v1/templates/{key}",
      tags: ["templates"],
      summary: "Store a template version",
      description:
        "Stores a new immutable version of the template (per locale) in S3 and makes it current. Sends already accepted keep the version they recorded. A template that does not compile is refused.",
    },
  })
  .input(PutTemplateInput)
  .output(Template.Info)
  .mutation(({ input }) => {
    const { key, locale, ...source } = input;
    return Template.put(key, locale, source);
  });
