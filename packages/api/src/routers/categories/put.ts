import * as Category from "@pregon/core/category";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleCategory } from "../examples";

export const put = scopedProcedure("preferences:write")
  .meta({
    example: {
      request: {
        key: "newsletter",
        name: "Newsletter",
        description: "News from us, once a month",
        optedInByDefault: true,
      },
      response: exampleCategory,
    },
    openapi: {
      method: "PUT",
      path: "/v1/categories/{key}",
      tags: ["categories"],
      summary: "Create or change a category",
      description:
        "A kind of bulk email recipients can unsubscribe from. Emails sent with `category` set to its key carry a one-click unsubscribe link and skip the recipients who opted out. `transactional` is built in and cannot be defined.",
    },
  })
  .input(z.strictObject({ key: Category.CustomKey, ...Category.Input.shape }))
  .output(Category.Info)
  .mutation(({ input }) => {
    const { key, ...category } = input;
    return Category.put(key, category);
  });
