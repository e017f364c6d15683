import * as Issuer from "@pregon/core/issuer";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleIssuer } from "../examples";

export const RemoveIssuerInput = z.strictObject({ id: z.uuid() });

export const remove = scopedProcedure("admin")
  .meta({
    errors: [404],
    example: { request: { id: exampleIssuer.id }, response: exampleIssuer },
    openapi: {
      method: "DELETE",
      path: "/v1/issuers/{id}",
      tags: ["issuers"],
      summary: "Stop trusting a token issuer",
      description:
        "Removes a trusted issuer of the caller's project; its tokens get 401 from the next request on.",
    },
  })
  .input(RemoveIssuerInput)
  .output(Issuer.Info)
  .mutation(({ input }) => Issuer.remove(input.id));
