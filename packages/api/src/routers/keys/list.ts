import * as ApiKey from "@pregon/core/apikey";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleKey } from "../examples";

export const ListKeysOutput = z.object({ keys: z.array(ApiKey.Info) });

export const list = scopedProcedure("admin")
  .meta({
    example: { response: { keys: [exampleKey] } },
    openapi: {
      method: "GET",
      path: "/v1/keys",
      tags: ["keys"],
      summary: "List API keys",
      description: "Lists the keys of the caller's project, newest first, revoked ones included.",
    },
  })
  .input(z.strictObject({}).optional())
  .output(ListKeysOutput)
  .query(async () => ({ keys: await ApiKey.list() }));
