import * as Device from "@pregon/core/device";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleDevice } from "../examples";

export const remove = scopedProcedure("push:send")
  .meta({
    example: { request: { id: exampleDevice.id }, response: exampleDevice },
    openapi: {
      method: "DELETE",
      path: "/v1/devices/{id}",
      tags: ["push"],
      summary: "Forget a device",
      description: "The device gets no more push (a user signing out, say). 404 if it is unknown.",
    },
  })
  .input(z.strictObject({ id: z.string() }))
  .output(Device.Info)
  .mutation(({ input }) => Device.remove(input.id));
