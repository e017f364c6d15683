import { Actor, ApiKey, Project } from "@pregon/core";
import { z } from "zod";
import { authedProcedure } from "../../trpc";
import { exampleIds, exampleKey } from "../examples";

export const MeOutput = z.object({
  project: Project.Info.pick({ id: true, name: true }),
  key: ApiKey.Info.pick({ id: true, name: true, hint: true }),
  scopes: z.array(ApiKey.Scope),
});

export const get = authedProcedure
  .meta({
    example: {
      response: {
        project: { id: exampleIds.project, name: "shop" },
        key: { id: exampleKey.id, name: exampleKey.name, hint: exampleKey.hint },
        scopes: exampleKey.scopes,
      },
    },
    openapi: {
      method: "GET",
      path: "/v1/me",
      tags: ["keys"],
      summary: "Describe the calling API key",
      description: "Returns the project the key belongs to, the key's name and its scopes.",
    },
  })
  .input(z.strictObject({}).optional())
  .output(MeOutput)
  .query(async () => {
    const { projectId, keyId } = Actor.assert("key");
    const [project, key] = await Promise.all([Project.get(projectId), ApiKey.get(keyId)]);
    return {
      project: { id: project.id, name: project.name },
      key: { id: key.id, name: key.name, hint: key.hint },
      scopes: key.scopes,
    };
  });
