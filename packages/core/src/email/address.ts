import addresses from "email-addresses";
import { z } from "zod";

/** One mailbox: an address and, optionally, the display name shown beside it. */
export interface Mailbox {
  name: string | null;
  address: string;
}

/**
 * Reads exactly one mailbox (`address`, `<address>` or `Name <address>`, RFC 5322 with UTF-8
 * names) with a real address parser: a list (`a@x, b@y`), a group, a line break or trailing text
 * is not one mailbox, and neither is an address zod's email rule refuses. Addresses are lower-cased.
 */
export function parseMailbox(input: string): Mailbox | undefined {
  const parsed = addresses.parseOneAddress({ input, rfc6532: true });
  if (parsed?.type !== "mailbox") return undefined;
  const address = parsed.address.toLowerCase();
  if (!z.email().safeParse(address).success) return undefined;
  return { name: parsed.name || null, address };
}

/** Base64 encoded-words carry at most 75 characters: 45 bytes of UTF-8 each, whole characters. */
function encodedWords(name: string): string {
  const words: string[] = [];
  let chunk = "";
  for (const char of name) {
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString("base64")}?=`).join(" ");
}

/**
 * The header form of a mailbox, built anew from its parts: the name quoted, or MIME-encoded
 * (RFC 2047, as SES requires for names that are not plain ASCII); the address in angle brackets.
 */
export function formatMailbox({ name, address }: Mailbox): string {
  if (!name) return address;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/["\\]/g, "\\$&")}" <${address}>`;
  return `${encodedWords(name)} <${address}>`;
}

/** A mailbox as requests and settings give it: one address, with or without a name. */
export const MailboxText = z
  .string()
  .max(320)
  .refine((text) => parseMailbox(text) !== undefined, {
    message: "must be one email address, as `address` or `Name <address>`",
  });
