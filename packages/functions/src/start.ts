import * as Database from "@pregon/core/db";
import * as Log from "@pregon/core/log";
import * as Otp from "@pregon/core/otp";
import * as Outbox from "@pregon/core/outbox";
import * as Preference from "@pregon/core/preference";
import * as Reputation from "@pregon/core/reputation";
import * as Template from "@pregon/core/template";
import * as Webhook from "@pregon/core/webhook";

/** What an entry point hands core at start. A part left out stays unconfigured (and unused). */
export interface Parts {
  database: Parameters<typeof Database.configure>[0];
  publisher?: Parameters<typeof Outbox.configure>[0];
  templates?: Parameters<typeof Template.configure>[0];
  /** Where codes are issued or checked. */
  otpPepper?: string;
  /** The reputation guard's window and minimum volumes (the defaults where left out). */
  reputation?: Parameters<typeof Reputation.configure>[0];
  /** Where bulk email's unsubscribe links are made: the public base URL they point to. */
  publicUrl?: string;
  /** Where webhooks are managed or delivered (the key of their secrets at rest is derived from its secret). */
  webhooks?: Parameters<typeof Webhook.configure>[0];
}

/**
 * The one start-up of core, for a Lambda's cold start and for `npm start` alike, so what one of
 * them configures (a secret kept out of the logs, say) the other cannot leave out. Each entry point
 * reads its own configuration and makes its own clients, then hands the parts over here.
 */
export function start(parts: Parts): void {
  Database.configure(parts.database);
  if (parts.publisher) Outbox.configure(parts.publisher);
  if (parts.templates) Template.configure(parts.templates);
  Reputation.configure(parts.reputation ?? {});
  if (parts.publicUrl) Preference.configure({ publicUrl: parts.publicUrl });
  if (parts.otpPepper) {
    Log.registerSecret(parts.otpPepper);
    Otp.configure({ pepper: parts.otpPepper });
  }
  if (parts.webhooks) {
    Log.registerSecret(parts.webhooks.encryptionSecret);
    Webhook.configure(parts.webhooks);
  }
}
