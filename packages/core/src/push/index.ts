import { z } from "zod";
import { type DispatchOptions, dispatch } from "../delivery/dispatch";
import * as Device from "../device";
import { AppError, SendError } from "../error";
import * as Idempotency from "../idempotency";
import * as Notification from "../notification";
import { EndpointDisabled, type PushGateway, type PushMessage } from "./gateway";

export { EndpointDisabled, type PushGateway, type PushMessage } from "./gateway";
export { payloadOf, snsPushGateway } from "./sns";

export const maxTargets = 1_000;

export const SendInput = z
  .strictObject({
    userIds: z
      .array(Device.UserId)
      .max(maxTargets)
      .optional()
      .meta({ description: "Every active device of these users" }),
    deviceIds: z.array(z.uuid()).max(maxTargets).optional().meta({ description: "These devices" }),
    title: z.string().min(1).max(200),
    body: z.string().min(1).max(2_000),
    data: z
      .record(z.string().max(100), z.string().max(1_000))
      .optional()
      .meta({ description: "Key-value pairs the app receives with the notification" }),
    badge: z.number().int().min(0).max(99_999).optional().meta({ description: "iOS badge" }),
    sound: z.string().min(1).max(100).optional().meta({ description: "A sound name, or default" }),
    tags: Notification.Tags.optional(),
  })
  .superRefine((input, ctx) => {
    if (!input.userIds?.length && !input.deviceIds?.length) {
      ctx.addIssue({
        code: "custom",
        path: ["userIds"],
        message: "Give userIds, deviceIds or both",
      });
    }
  });
export type SendInput = z.infer<typeof SendInput>;

export type Accepted = Notification.Accepted<"push">;

/**
 * Accepts a push notification for devices of the actor's project, its users' and single ones: each
 * active device gets a delivery; inactive ones (the provider reported them gone) are skipped and
 * counted as suppressed.
 */
export async function send(
  input: SendInput,
  options: { idempotencyKey?: string | undefined } = {},
): Promise<Accepted> {
  const claim = Idempotency.claim(options.idempotencyKey, "push.send", input);
  const replay = await Idempotency.replay<Accepted>(claim);
  if (replay) return replay;

  const deviceIds = input.deviceIds ?? [];
  const found = await Device.resolve(input.userIds ?? [], deviceIds);
  const known = new Set(found.map((device) => device.id));
  const missing = deviceIds.findIndex((id) => !known.has(id));
  if (missing >= 0) {
    throw new AppError("not_found", `deviceIds.${missing}: device ${deviceIds[missing]} not found`);
  }
  const recipients: Notification.Recipient[] = found.map((device, position) => ({
    position,
    address: device.id,
    name: null,
    variables: null,
    status: device.active ? "queued" : "suppressed",
  }));
  const { title, body, data, badge, sound } = input;
  return Notification.accept({
    claim,
    channel: "push",
    // Sent as written: title and body are not templates.
    content: async () => ({ title, body, data, badge, sound }) satisfies PushMessage,
    variables: {},
    tags: input.tags,
    recipients,
    duplicates: duplicatesOf(input),
  });
}

/** Repeated user and device ids in the request. */
function duplicatesOf(input: SendInput): number {
  const users = input.userIds ?? [];
  const ids = input.deviceIds ?? [];
  return users.length - new Set(users).size + ids.length - new Set(ids).size;
}

export interface DeliverOptions extends DispatchOptions {
  gateway: PushGateway;
}

/**
 * Sends the deliveries of one push queue message (see `Dispatch.dispatch`). A device's endpoint
 * is made on its first send and kept; one the provider reports disabled makes the device inactive.
 */
export function deliver(deliveryIds: string[], options: DeliverOptions) {
  const { gateway } = options;
  return dispatch(deliveryIds, options, {
    name: "push",
    metric: "Push",
    prepare: async (row) => row.content as PushMessage,
    async send(delivery, message) {
      const device = await Device.find(delivery.address);
      if (!device?.active)
        throw new SendError("The device is no longer registered or active", true);
      const platform = device.platform as Device.Platform;
      let endpoint = device.endpointArn;
      if (!endpoint) {
        endpoint = await gateway.createEndpoint({ id: device.id, platform, token: device.token });
        await Device.setEndpoint(device.id, endpoint);
      }
      try {
        return await gateway.publish({ deviceId: device.id, platform, endpoint }, message);
      } catch (error) {
        if (error instanceof EndpointDisabled) await Device.deactivate(device.id);
        throw error;
      }
    },
  });
}
