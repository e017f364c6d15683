import * as Issuer from "@pregon/core/issuer";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleIssuer } from "../examples";

export const ListIssuersOutput = z.object({ issuers: z.array(Issuer.Info) });

export const list = scopedProcedure("admin")
  .meta({
    example: { response: { issuers: [exampleIssuer] } },
    openapi: {
      method: "GET",
      path: "/v1/issuers",
      tags: ["issuers"],
      summary: "List trusted token issuers",
      description: "Lists the token issuers the caller's project trusts, oldest first.",
    },
  })
  .input(z.strictObject({}).optional())
  .output(ListIssuersOutput)
  .query(async () => ({ issuers: await Issuer.list() }));
