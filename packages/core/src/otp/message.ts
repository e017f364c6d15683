import type * as Email from "../email";
import type * as Sms from "../sms";
import type * as Template from "../template";
import type { OtpChannel } from "./schema";

/** The built-in email per language; `code`, `purpose` and `expiresInMinutes` are its variables. */
const builtInEmail: Record<string, Template.Content> = {
  en: {
    subject: "Your verification code",
    html: "<p>Your {{ purpose }} code is <strong>{{ code }}</strong>.</p><p>It expires in {{ expiresInMinutes }} minutes. If you did not ask for it, ignore this email.</p>",
    text: "Your {{ purpose }} code is {{ code }}. It expires in {{ expiresInMinutes }} minutes.",
  },
  es: {
    subject: "Tu código de verificación",
    html: "<p>Tu código de {{ purpose }} es <strong>{{ code }}</strong>.</p><p>Caduca en {{ expiresInMinutes }} minutos. Si no lo pediste, ignora este correo.</p>",
    text: "Tu código de {{ purpose }} es {{ code }}. Caduca en {{ expiresInMinutes }} minutos.",
  },
};

/** The built-in SMS per language. */
const builtInSms: Record<string, string> = {
  en: "{{ code }} is your {{ purpose }} code. It expires in {{ expiresInMinutes }} minutes.",
  es: "{{ code }} es tu código de {{ purpose }}. Caduca en {{ expiresInMinutes }} minutos.",
};

/**
 * What a code's notification keeps: the stored template when one was asked for, else the built-in
 * message in the language of `locale` (English when there is none in it). Its code is made at
 * send time.
 */
export function contentOf(options: {
  otpId: string;
  channel: OtpChannel;
  template: Template.Ref | undefined;
  locale: string | undefined;
  from: string;
}): Email.Content | Sms.Content {
  const otp = { id: options.otpId };
  const language = options.locale?.split("-")[0] ?? "en";
  const { template } = options;
  if (options.channel === "sms") {
    return template
      ? { otp, type: "transactional", template }
      : { otp, type: "transactional", text: builtInSms[language] ?? builtInSms.en! };
  }
  return template
    ? { otp, from: options.from, replyTo: null, template }
    : { otp, from: options.from, replyTo: null, ...(builtInEmail[language] ?? builtInEmail.en!) };
}
