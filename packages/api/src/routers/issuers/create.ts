import * as Issuer from "@pregon/core/issuer";
import { scopedProcedure } from "../../trpc";
import { exampleIssuer } from "../examples";

export const create = scopedProcedure("admin")
  .meta({
    successStatus: 201,
    example: {
      request: {
        issuer: exampleIssuer.issuer,
        audience: exampleIssuer.audience,
        scopeClaim: "scope",
      },
      response: exampleIssuer,
    },
    openapi: {
      method: "POST",
      path: "/v1/issuers",
      tags: ["issuers"],
      summary: "Trust a token issuer",
      description:
        "Trusts an identity provider in the caller's project: tokens it signs (RS256, ES256 or EdDSA) whose `iss` is `issuer` and whose `aud` holds `audience` are accepted as `Authorization: Bearer <token>`, with the scopes of `scopeClaim` or the fixed `scopes`. An issuer and audience pair is trusted by one project at most (409). Its keys are fetched from `jwksUrl`, or found by OpenID discovery, over HTTPS from public addresses only.",
    },
  })
  .input(Issuer.CreateInput)
  .output(Issuer.Info)
  .mutation(({ input }) => Issuer.create(input));
