import { GetAccountCommand, type SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { type Mailer, SendError } from "./mailer";

/** SES errors after which the same request can succeed: throttling, quotas, outages. */
const transient = new Set([
  "TooManyRequestsException",
  "LimitExceededException",
  "SendingPausedException",
  "AccountSuspendedException",
  "InternalFailure",
  "ServiceUnavailable",
  "ThrottlingException",
]);

/** The Mailer port on SES v2. */
export function sesMailer(ses: SESv2Client, configurationSet?: string): Mailer {
  return {
    async send(email) {
      try {
        const result = await ses.send(
          new SendEmailCommand({
            FromEmailAddress: email.from,
            Destination: { ToAddresses: [email.to] },
            ...(email.replyTo && { ReplyToAddresses: [email.replyTo] }),
            Content: {
              Simple: {
                Subject: { Data: email.subject, Charset: "UTF-8" },
                Body: {
                  ...(email.html && { Html: { Data: email.html, Charset: "UTF-8" } }),
                  ...(email.text && { Text: { Data: email.text, Charset: "UTF-8" } }),
                },
                ...(email.headers && {
                  Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
                }),
              },
            },
            EmailTags: email.tags.map((tag) => ({ Name: tag.name, Value: tag.value })),
            ...(configurationSet && { ConfigurationSetName: configurationSet }),
          }),
        );
        return { messageId: result.MessageId ?? "" };
      } catch (error) {
        const { name, message, $metadata } = error as Error & {
          $metadata?: { httpStatusCode?: number };
        };
        const status = $metadata?.httpStatusCode;
        // No status: the request did not get an answer (network, timeout).
        const permanent =
          !transient.has(name) && status !== undefined && status >= 400 && status < 500;
        throw new SendError(`${name}: ${message}`, permanent);
      }
    },
  };
}

/** The account's sending rate (messages per second), from SES. */
export async function maxSendRate(ses: SESv2Client): Promise<number> {
  const account = await ses.send(new GetAccountCommand({}));
  return account.SendQuota?.MaxSendRate ?? 1;
}
