import { GetEmailIdentityCommand, type SESv2Client } from "@aws-sdk/client-sesv2";

/** A DNS record a sending domain should have, or what cannot be known about one. */
export interface DomainRecord {
  kind: "DKIM" | "SPF" | "DMARC";
  name: string;
  type: "CNAME" | "TXT" | "MX";
  value: string;
}

/** What SES says of the domain's identity; undefined where it was not asked (the local stack). */
export interface IdentityFacts {
  region: string;
  /** Easy DKIM's three tokens. */
  dkimTokens: string[];
  /** A custom MAIL FROM domain, when the identity has one. */
  mailFromDomain?: string | undefined;
}

export interface DomainCheck {
  records: DomainRecord[];
  /** What the records alone do not say: what could not be read, and why SPF is as it is. */
  notes: string[];
}

/**
 * The SPF, DKIM and DMARC records `domain` should have to send through SES with its mail aligned
 * (DMARC passes when DKIM or SPF passes for the From domain), from what SES says of the identity,
 * or, without it, what can be said and what cannot.
 */
export function domainRecords(domain: string, identity: IdentityFacts | undefined): DomainCheck {
  const records: DomainRecord[] = [];
  const notes: string[] = [];
  if (identity) {
    for (const token of identity.dkimTokens) {
      records.push({
        kind: "DKIM",
        name: `${token}._domainkey.${domain}`,
        type: "CNAME",
        value: `${token}.dkim.amazonses.com`,
      });
    }
    if (identity.dkimTokens.length === 0) {
      notes.push(`DKIM: SES has no Easy DKIM tokens for ${domain}: is it the identity's domain?`);
    }
  } else {
    notes.push(
      "DKIM: unknown here. SES makes three Easy DKIM tokens when the stage that owns the identity creates it; run this under `sst shell` to read them (three CNAMEs <token>._domainkey.<domain> -> <token>.dkim.amazonses.com). The local mailbox signs nothing.",
    );
  }
  const mailFrom = identity?.mailFromDomain;
  if (mailFrom && identity) {
    records.push(
      {
        kind: "SPF",
        name: mailFrom,
        type: "MX",
        value: `10 feedback-smtp.${identity.region}.amazonses.com`,
      },
      { kind: "SPF", name: mailFrom, type: "TXT", value: '"v=spf1 include:amazonses.com ~all"' },
    );
  } else {
    notes.push(
      `SPF: with SES's default MAIL FROM (a subdomain of amazonses.com) SPF passes for amazonses.com, not for ${domain}: DMARC passes through DKIM. To align SPF too, give the identity a custom MAIL FROM domain (say bounce.${domain}): MX 10 feedback-smtp.<region>.amazonses.com and TXT "v=spf1 include:amazonses.com ~all" on it. If ${domain} already has an SPF record for other senders, keep it; SES needs no include there.`,
    );
  }
  records.push({
    kind: "DMARC",
    name: `_dmarc.${domain}`,
    type: "TXT",
    value: `"v=DMARC1; p=none; rua=mailto:dmarc-reports@${domain}"`,
  });
  notes.push(
    "DMARC: Gmail and Yahoo require a record for bulk senders; p=none is the least they accept. Move to p=quarantine once the reports show only your own mail. Keep an existing _dmarc record if there is one.",
  );
  return { records, notes };
}

/** What SES says of the identity of `domain`: its DKIM tokens and MAIL FROM domain. */
export async function sesIdentity(ses: SESv2Client, domain: string): Promise<IdentityFacts> {
  const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
  return {
    region: await ses.config.region(),
    dkimTokens: identity.DkimAttributes?.Tokens ?? [],
    mailFromDomain: identity.MailFromAttributes?.MailFromDomain,
  };
}
