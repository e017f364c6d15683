import * as Preference from "@pregon/core/preference";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { examplePreference } from "../examples";

export const lookup = scopedProcedure("preferences:read")
  .meta({
    example: {
      request: { email: "ana@example.com" },
      response: { preferences: [examplePreference] },
    },
    openapi: {
      method: "POST",
      path: "/v1/preferences/lookup",
      tags: ["preferences"],
      summary: "Read a recipient's preferences",
      description:
        "What the address gets of each category of the project, whether they chose it (`link`: through an unsubscribe link; `api`) or not (`default`). A POST, so the address travels in the body and never in a URL.",
    },
  })
  .input(z.strictObject({ email: z.email() }))
  .output(z.object({ preferences: z.array(Preference.Info) }))
  .mutation(async ({ input }) => ({ preferences: await Preference.listFor(input.email) }));
