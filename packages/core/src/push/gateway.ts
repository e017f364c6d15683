import type { Platform } from "../channel";
import { SendError } from "../error";

export interface PushMessage {
  title: string;
  body: string;
  data?: Record<string, string> | undefined;
  badge?: number | undefined;
  sound?: string | undefined;
}

/** The provider no longer delivers to this endpoint (app removed, token expired). */
export class EndpointDisabled extends SendError {
  constructor(message: string) {
    super(message, true);
  }
}

/** Port: the provider that sends push notifications through per-device endpoints. */
export interface PushGateway {
  /** Makes the provider's endpoint for a device's token (once per device; the id is kept). */
  createEndpoint(device: { id: string; platform: Platform; token: string }): Promise<string>;
  /** Throws `EndpointDisabled` when the provider reports the endpoint gone, else `SendError`. */
  publish(
    target: { deviceId: string; platform: Platform; endpoint: string },
    message: PushMessage,
  ): Promise<{ messageId: string }>;
}
