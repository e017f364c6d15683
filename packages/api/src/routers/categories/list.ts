import * as Category from "@pregon/core/category";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleCategory } from "../examples";

export const list = scopedProcedure("preferences:read")
  .meta({
    example: { response: { categories: [exampleCategory] } },
    openapi: {
      method: "GET",
      path: "/v1/categories",
      tags: ["categories"],
      summary: "List categories",
      description: "The project's categories of bulk email, by key (`transactional` is implied).",
    },
  })
  .input(z.strictObject({}).optional())
  .output(z.object({ categories: z.array(Category.Info) }))
  .query(async () => ({ categories: await Category.list() }));
