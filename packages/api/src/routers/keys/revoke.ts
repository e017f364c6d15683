import * as ApiKey from "@pregon/core/apikey";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleKey } from "../examples";

export const RevokeKeyInput = z.strictObject({ id: z.uuid() });

export const revoke = scopedProcedure("admin")
  .meta({
    example: {
      request: { id: exampleKey.id },
      response: { ...exampleKey, revokedAt: "2025-06-01T12:05:00.000Z" },
    },
    openapi: {
      method: "DELETE",
      path: "/v1/keys/{id}",
      tags: ["keys"],
      summary: "Revoke an API key",
      description:
        "Revokes a key of the caller's project; requests with it get 401 from then on. Revoking twice changes nothing.",
    },
  })
  .input(RevokeKeyInput)
  .output(ApiKey.Info)
  .mutation(({ input }) => ApiKey.revoke(input.id));
