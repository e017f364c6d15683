import * as Category from "@pregon/core/category";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleCategory } from "../examples";

export const get = scopedProcedure("preferences:read")
  .meta({
    errors: [404],
    example: { request: { key: "newsletter" }, response: exampleCategory },
    openapi: {
      method: "GET",
      path: "/v1/categories/{key}",
      tags: ["categories"],
      summary: "Get a category",
      description: "404 `category_not_found` if the project has none of that key.",
    },
  })
  .input(z.strictObject({ key: Category.Key }))
  .output(Category.Info)
  .query(({ input }) => Category.get(input.key));
