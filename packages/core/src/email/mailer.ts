/** Port: sends one email. Throws `SendError`, telling whether a retry can help. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

export interface OutgoingEmail {
  from: string;
  to: string;
  replyTo?: string | undefined;
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
  /** Correlates provider feedback (bounces, complaints) with the delivery. */
  tags: Array<{ name: string; value: string }>;
}

export { SendError } from "../delivery/dispatch";

/** `Name <address>`, the name quoted, or MIME-encoded when it is not plain ASCII. */
export function formatAddress(address: string, name?: string | null): string {
  if (!name) return address;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/["\\]/g, "\\$&")}" <${address}>`;
  return `=?UTF-8?B?${Buffer.from(name).toString("base64")}?= <${address}>`;
}

/** The address part of "Name <address>" or of a bare address, lower-cased. */
export function addressOf(mailbox: string): string {
  return (/<([^>]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox).trim().toLowerCase();
}
