import * as ApiKey from "@pregon/core/apikey";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleKey } from "../examples";

export const CreateKeyInput = z.strictObject({
  name: ApiKey.Name,
  scopes: z.array(ApiKey.Scope).min(1),
});

export const CreateKeyOutput = ApiKey.Info.extend({
  key: z.string().meta({ description: "The API key. Shown once: store it now." }),
});

export const create = scopedProcedure("admin")
  .meta({
    successStatus: 201,
    example: {
      request: { name: "billing", scopes: ["emails:send"] },
      response: { ...exampleKey, key: "prg_4bT0c3VxQm2n9Lk8sR7yW1aZ6dE5fG3hJ2kL1mN0x9Qz" },
    },
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
  .mutation(async ({ input }) => {
    const { secret, ...info } = await ApiKey.create(input);
    return { ...info, key: secret };
  });
