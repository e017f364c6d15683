import { CreatePlatformEndpointCommand, PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Platform } from "../channel";
import { SendError } from "../error";
import { EndpointDisabled, type PushGateway, type PushMessage } from "./gateway";

/** The platform-specific payloads SNS takes with MessageStructure "json". */
export function payloadOf(platform: Platform, message: PushMessage, apnsSandbox = false): string {
  const { title, body, data, badge, sound } = message;
  if (platform === "apns") {
    const aps = {
      alert: { title, body },
      ...(badge !== undefined && { badge }),
      ...(sound && { sound }),
    };
    return JSON.stringify({
      default: body,
      [apnsSandbox ? "APNS_SANDBOX" : "APNS"]: JSON.stringify({ ...data, aps }),
    });
  }
  // FCM HTTP v1, as SNS forwards it.
  return JSON.stringify({
    default: body,
    GCM: JSON.stringify({
      fcmV1Message: {
        message: {
          notification: { title, body },
          ...(data && { data }),
          ...(sound && { android: { notification: { sound } } }),
        },
      },
    }),
  });
}

const permanentErrors = new Set(["InvalidParameterException", "InvalidParameterValueException"]);

function sendError(error: unknown): SendError {
  const name = (error as { name?: string }).name ?? "";
  const message = `SNS ${name}: ${(error as Error).message}`;
  if (name === "EndpointDisabledException") return new EndpointDisabled(message);
  return new SendError(message, permanentErrors.has(name));
}

/** SNS mobile push: one platform endpoint per device, APNs and FCM platform applications. */
export function snsPushGateway(
  sns: SNSClient,
  applications: { apns?: string | undefined; fcm?: string | undefined; apnsSandbox?: boolean },
): PushGateway {
  return {
    async createEndpoint({ id, platform, token }) {
      const application = applications[platform];
      if (!application) throw new SendError(`No ${platform} platform application configured`, true);
      try {
        const { EndpointArn } = await sns.send(
          new CreatePlatformEndpointCommand({
            PlatformApplicationArn: application,
            Token: token,
            CustomUserData: id,
          }),
        );
        return EndpointArn!;
      } catch (error) {
        throw sendError(error);
      }
    },
    async publish({ platform, endpoint }, message) {
      try {
        const { MessageId } = await sns.send(
          new PublishCommand({
            TargetArn: endpoint,
            MessageStructure: "json",
            Message: payloadOf(platform, message, applications.apnsSandbox),
          }),
        );
        return { messageId: MessageId! };
      } catch (error) {
        throw sendError(error);
      }
    },
  };
}
