import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { SendError } from "../error";
import type { SmsGateway } from "./gateway";

/** Errors after which the same SMS will never be accepted. */
const permanentErrors = new Set(["InvalidParameterException", "InvalidParameterValueException"]);

/** SNS `Publish` to a phone number, with the sender ID and number the deployment configured. */
export function snsSmsGateway(
  sns: SNSClient,
  options: { senderId?: string | undefined; originationNumber?: string | undefined } = {},
): SmsGateway {
  const attribute = (value: string) => ({ DataType: "String", StringValue: value });
  return {
    async send({ to, text, type }) {
      try {
        const { MessageId } = await sns.send(
          new PublishCommand({
            PhoneNumber: to,
            Message: text,
            MessageAttributes: {
              "AWS.SNS.SMS.SMSType": attribute(
                type === "promotional" ? "Promotional" : "Transactional",
              ),
              ...(options.senderId && { "AWS.SNS.SMS.SenderID": attribute(options.senderId) }),
              ...(options.originationNumber && {
                "AWS.MM.SMS.OriginationNumber": attribute(options.originationNumber),
              }),
            },
          }),
        );
        return { messageId: MessageId! };
      } catch (error) {
        const name = (error as { name?: string }).name ?? "";
        throw new SendError(`SNS ${name}: ${(error as Error).message}`, permanentErrors.has(name));
      }
    },
  };
}
