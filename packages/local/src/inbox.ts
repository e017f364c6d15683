import { randomUUID } from "node:crypto";
import type { Push, Sms } from "@pregon/core";

export interface InboxSms {
  to: string;
  text: string;
  type: Sms.SmsType;
  at: string;
}

export interface InboxPush {
  deviceId: string;
  title: string;
  body: string;
  data: Record<string, string> | null;
  at: string;
}

/**
 * What the local stack "sent" by SMS and push: fauxqs emulates neither SMS nor mobile push, so
 * the local senders record here and `GET /dev/inbox` shows it. Kept in memory, newest last, 1,000 of each.
 */
export function createInbox(keep = 1_000) {
  const sms: InboxSms[] = [];
  const push: InboxPush[] = [];
  const record = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > keep) list.shift();
  };
  return {
    smsGateway: {
      async send({ to, text, type }) {
        record(sms, { to, text, type, at: new Date().toISOString() });
        return { messageId: `local-${randomUUID()}` };
      },
    } satisfies Sms.SmsGateway,
    pushGateway: {
      async createEndpoint({ id }) {
        return `local:endpoint/${id}`;
      },
      async publish({ deviceId }, { title, body, data }) {
        record(push, { deviceId, title, body, data: data ?? null, at: new Date().toISOString() });
        return { messageId: `local-${randomUUID()}` };
      },
    } satisfies Push.PushGateway,
    contents: () => ({ sms: [...sms], push: [...push] }),
  };
}
export type Inbox = ReturnType<typeof createInbox>;
