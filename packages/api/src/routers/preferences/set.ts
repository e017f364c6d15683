import * as Category from "@pregon/core/category";
import * as Preference from "@pregon/core/preference";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { examplePreference } from "../examples";

export const set = scopedProcedure("preferences:write")
  .meta({
    errors: [404],
    example: {
      request: { email: "ana@example.com", category: "newsletter", subscribed: false },
      response: { preferences: [examplePreference] },
    },
    openapi: {
      method: "PUT",
      path: "/v1/preferences",
      tags: ["preferences"],
      summary: "Set a recipient's preference",
      description:
        "Opts the address in or out of a category (404 `category_not_found` for one the project lacks); sends of that category skip it while it is out. Answers with all its preferences. The address travels in the body, never in a URL.",
    },
  })
  .input(
    z.strictObject({ email: z.email(), category: Category.CustomKey, subscribed: z.boolean() }),
  )
  .output(z.object({ preferences: z.array(Preference.Info) }))
  .mutation(async ({ input }) => {
    await Preference.setFor(input.email, input.category, input.subscribed);
    return { preferences: await Preference.listFor(input.email) };
  });
