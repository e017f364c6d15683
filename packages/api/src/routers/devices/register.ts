import * as Device from "@pregon/core/device";
import { scopedProcedure } from "../../trpc";
import { exampleDevice } from "../examples";

export const register = scopedProcedure("push:send")
  .meta({
    successStatus: 201,
    example: {
      request: { userId: "user-42", platform: "apns", token: "a1b2c3d4e5f6…" },
      response: exampleDevice,
    },
    openapi: {
      method: "POST",
      path: "/v1/devices",
      tags: ["push"],
      summary: "Register a device for push",
      description:
        "Registers the push token an app got from APNs or FCM for one of your users. Registering a token again (a reinstall, another user signing in) keeps its id, moves it to the user given and makes it active again.",
    },
  })
  .input(Device.RegisterInput)
  .output(Device.Info)
  .mutation(({ input }) => Device.register(input));
