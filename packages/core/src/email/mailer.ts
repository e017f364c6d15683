/** Port: sends one email. Throws `SendError`, telling whether a retry can help. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

/** Header values are built by `formatMailbox`: one mailbox each, names encoded. */
export interface OutgoingEmail {
  from: string;
  to: string;
  replyTo?: string | undefined;
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
  /** Extra headers (the unsubscribe link's), names and values as they go out. */
  headers?: Record<string, string> | undefined;
  /** Correlates provider feedback (bounces, complaints) with the delivery. */
  tags: Array<{ name: string; value: string }>;
}

export { SendError } from "../error";
