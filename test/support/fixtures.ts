import { randomUUID } from "node:crypto";
import { ApiKey, Project } from "@pregon/core";

/** A fresh project with a key holding the given scopes. */
export async function projectWithKey(scopes: ApiKey.Scope[] = ["admin"]) {
  const project = await Project.create(`project-${randomUUID()}`);
  const key = await ApiKey.create({ projectId: project.id, name: "test", scopes });
  return { project, key, secret: key.secret };
}

export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** The API settings tests run with. */
export const settings = {
  email: { from: "Pregón <no-reply@pregon.test>", senders: ["@pregon.test"] },
};
