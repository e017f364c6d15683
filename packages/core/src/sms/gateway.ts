export type SmsType = "transactional" | "promotional";

export interface OutgoingSms {
  to: string;
  text: string;
  type: SmsType;
}

/** Port: the provider that sends one SMS. Throws `SendError`, telling whether a retry can help. */
export interface SmsGateway {
  send(sms: OutgoingSms): Promise<{ messageId: string }>;
}

/** GSM 03.38 basic set plus its extension (each extension character takes two septets). */
const gsm7 =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const gsm7Extension = "^{}\\[~]|€\f";

/**
 * The parts a text is sent (and billed) as: 160 GSM-7 septets in one, 153 each when split; any
 * other character makes it UCS-2: 70 in one, 67 each when split (characters outside the BMP count
 * as two).
 */
export function segments(text: string): number {
  let septets = 0;
  let ucs2 = false;
  for (const char of text) {
    if (gsm7.includes(char)) septets += 1;
    else if (gsm7Extension.includes(char)) septets += 2;
    else {
      ucs2 = true;
      break;
    }
  }
  if (!ucs2) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  const units = text.length; // UTF-16 code units
  return units <= 70 ? 1 : Math.ceil(units / 67);
}
