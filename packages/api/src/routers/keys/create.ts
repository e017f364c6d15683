import { ApiKey } from "@pregon/core";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";

export const CreateKeyInput = z.object({
  name: ApiKey.Name,
  scopes: z.array(ApiKey.Scope).min(1),
});

export const CreateKeyOutput = ApiKey.Info.extend({
  key: z.string().meta({ description: "The API key. Shown once: store it now." }),
});

export const create = scopedProcedure("admin")
  .meta({
    successStatus: 201,
    openapi: {
      method: "POST",
      path: "/v1/keys",
      tags: ["keys"],
      summary: "Create an API key",
      description:
        "Creates a key in the caller's project with the given scopes. The key is returned once; only its SHA-256 is stored.",
    },
  })
  .input(CreateKeyInput)
  .output(CreateKeyOutput)
  .mutation(async ({ ctx, input }) => {
    const { secret, ...info } = await ApiKey.create({
      projectId: ctx.principal.projectId,
      ...input,
    });
    return { ...info, key: secret };
  });
