import * as Device from "@pregon/core/device";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleDevice } from "../examples";

export const list = scopedProcedure("push:send")
  .meta({
    example: { request: { userId: "user-42" }, response: { devices: [exampleDevice] } },
    openapi: {
      method: "GET",
      path: "/v1/devices",
      tags: ["push"],
      summary: "List a user's devices",
      description:
        "Every device registered for the user, active or not; inactive ones were reported gone by the provider and get no push.",
    },
  })
  .input(z.strictObject({ userId: Device.UserId }))
  .output(z.object({ devices: z.array(Device.Info) }))
  .query(async ({ input }) => ({
    devices: await Device.list(input.userId),
  }));
