import * as Actor from "@pregon/core/actor";
import * as ApiKey from "@pregon/core/apikey";
import * as Project from "@pregon/core/project";
import { z } from "zod";
import { authedProcedure } from "../../trpc";
import { exampleIds, exampleKey } from "../examples";

export const MeOutput = z.object({
  project: Project.Info.pick({ id: true, name: true }),
  key: ApiKey.Info.pick({ id: true, name: true, hint: true })
    .nullable()
    .meta({ description: "The calling API key, or null for a token" }),
  token: z
    .object({ issuer: z.string(), subject: z.string() })
    .nullable()
    .meta({ description: "The calling token's `iss` and `sub`, or null for an API key" }),
  scopes: z.array(ApiKey.Scope),
});

export const get = authedProcedure
  .meta({
    example: {
      response: {
        project: { id: exampleIds.project, name: "shop" },
        key: { id: exampleKey.id, name: exampleKey.name, hint: exampleKey.hint },
        token: null,
        scopes: exampleKey.scopes,
      },
    },
    openapi: {
      method: "GET",
      path: "/v1/me",
      tags: ["keys"],
      summary: "Describe the caller",
      description:
        "Returns the project the caller acts in, its scopes, and the API key's name, or the token's issuer and subject.",
    },
  })
  .input(z.strictObject({}).optional())
  .output(MeOutput)
  .query(async () => {
    const actor = Actor.use();
    if (actor.type === "token") {
      const project = await Project.get(actor.projectId);
      return {
        project: { id: project.id, name: project.name },
        key: null,
        token: { issuer: actor.issuer, subject: actor.subject },
        scopes: actor.scopes as ApiKey.Scope[],
      };
    }
    const { projectId, keyId } = Actor.assert("key");
    const [project, key] = await Promise.all([Project.get(projectId), ApiKey.get(keyId)]);
    return {
      project: { id: project.id, name: project.name },
      key: { id: key.id, name: key.name, hint: key.hint },
      token: null,
      scopes: key.scopes,
    };
  });
