import { and, count, eq, gt, lt, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Delivery from "../delivery";
import type * as Email from "../email";
import { AppError, type Reason } from "../error";
import * as Fact from "../fact";
import * as Fraud from "../fraud";
import * as Log from "../log";
import * as Notification from "../notification";
import { maskPhone, Phone, prefixOf } from "../sms/phone";
import * as Template from "../template";
import { configure as configurePepper, hmac } from "./code";
import { otpFailures, otps } from "./otp.sql";

export { hmac, issueCode } from "./code";

/** DESIGN.md §4, stricter than Twilio Verify and Supabase. */
export const rules = {
  checksPerCode: 5,
  /** SMS: codes per number range (the number without its last 4 digits), against SMS pumping. */
  codesPerPrefixPerHour: 10,
  failuresPerDestinationPerHour: 10,
  cooldownMs: 30_000,
  codesPerDestinationPer10Min: 5,
  codesPerProjectPerHour: 1_000,
  codesPerIpPerHour: 20,
};

/** Entry points set the pepper (a secret) and, if they differ from the defaults, the rules. */
export function configure(options: { pepper: string; rules?: Partial<typeof rules> }): void {
  configurePepper(options);
  Object.assign(rules, options.rules);
}

const minute = 60_000;
const hour = 60 * minute;

export const SendInput = z
  .strictObject({
    channel: z.enum(["email", "sms"]),
    to: z
      .string()
      .min(3)
      .max(320)
      .meta({ description: "The destination: an email address, or an E.164 phone number for sms" }),
    purpose: z
      .string()
      .regex(/^[a-z0-9_-]{1,40}$/)
      .default("login"),
    length: z.number().int().min(4).max(10).default(6),
    ttlSeconds: z.number().int().min(60).max(600).default(300),
    template: z
      .strictObject({ key: Template.Key, locale: Template.Locale.optional() })
      .optional()
      .meta({ description: "A stored template with `code`, `expiresInMinutes`, `purpose`" }),
    locale: Template.Locale.optional().meta({ description: "Of the built-in message (en, es)" }),
    clientIp: z
      .union([z.ipv4(), z.ipv6()])
      .optional()
      .meta({ description: "The end user's IP, for per-IP velocity limits" }),
  })
  .superRefine((input, ctx) => {
    if (input.channel === "email" && !z.email().safeParse(input.to).success) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "must be an email address" });
    }
    if (input.channel === "sms" && !Phone.safeParse(input.to).success) {
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: "must be a valid phone number in E.164 form",
      });
    }
  });
export type SendInput = z.infer<typeof SendInput>;

export const Sent = z.object({
  id: z.uuid(),
  channel: z.enum(["email", "sms"]),
  to: z.string().meta({ description: "The destination, masked" }),
  expiresAt: z.iso.datetime(),
  resendAvailableAt: z.iso.datetime(),
});
export type Sent = z.infer<typeof Sent>;

export const VerifyReason = z.enum([
  "invalid",
  "expired",
  "used",
  "canceled",
  "max_attempts",
  "locked",
  "not_found",
]);

export const Verified = z.union([
  z.object({ valid: z.literal(true) }),
  z.object({ valid: z.literal(false), reason: VerifyReason, attemptsRemaining: z.number().int() }),
]);
export type Verified = z.infer<typeof Verified>;

export const Status = z.object({
  id: z.uuid(),
  channel: z.enum(["email", "sms"]),
  to: z.string(),
  purpose: z.string(),
  status: z.enum(["pending", "verified", "canceled", "expired"]),
  attemptsRemaining: z.number().int(),
  expiresAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
});

const OtpData = z.object({ otpId: z.uuid().meta({ description: "The one-time code's id" }) });

/** A fact about a code whose data is its id alone. */
const aboutCode = (type: string) =>
  Fact.define(type, { version: 1, subject: "otpId", data: OtpData });

export const facts = {
  issued: Fact.define("otp.issued", {
    version: 1,
    subject: "otpId",
    data: OtpData.extend({ channel: Fact.fields.channel }),
  }),
  verified: aboutCode("otp.verified"),
  failed: aboutCode("otp.failed"),
  locked: aboutCode("otp.locked"),
};

/** The built-in message per language; `code`, `purpose` and `expiresInMinutes` are its variables. */
const builtIn: Record<string, Template.Content> = {
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

/** `ana@example.com` → `a***@example.com`; `+34600111222` → `+34******222` */
export function mask(address: string): string {
  if (address.startsWith("+")) return maskPhone(address);
  const at = address.lastIndexOf("@");
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}

const refusals: Partial<Record<Reason, string>> = {
  otp_locked: "Too many wrong codes for this destination; try again later",
  otp_cooldown: "A code was just sent to this destination; wait before asking again",
  otp_destination_limit: "Too many codes for this destination; try again later",
  otp_ip_limit: "Too many codes for this client IP; try again later",
  otp_project_limit: "This project issued too many codes in the last hour; try again later",
  otp_prefix_limit: "Too many codes for numbers of this range; try again later",
};

/**
 * Issues a code in the actor's project: the rules of DESIGN.md §4 are checked with the destination
 * locked (concurrent requests for one destination queue up, so none slips past the cooldown), then
 * the OTP row (no code yet), its email and the queue message are written in one transaction. The
 * sender makes the code.
 */
export async function send(
  input: SendInput,
  settings: { email: Email.Settings; sms: { countries: string[] } },
): Promise<Sent> {
  const projectId = Actor.projectId();
  const sms = input.channel === "sms";
  const destination = sms ? input.to : input.to.toLowerCase();
  const destinationHmac = hmac("destination", projectId, input.channel, destination);
  const clientIpHmac = input.clientIp ? hmac("ip", projectId, input.clientIp) : null;
  const prefixHmac = sms ? hmac("prefix", projectId, prefixOf(destination)) : null;
  if (sms) {
    await Fraud.assertSmsCountry(destination, settings.sms.countries, "to", {
      destinationHmac,
      clientIpHmac,
    });
  }
  const language = input.locale?.split("-")[0] ?? "en";
  const template = input.template
    ? await Template.resolve(input.template.key, input.template.locale)
    : undefined;
  const source = template ? undefined : (builtIn[language] ?? builtIn.en!);
  const now = Clock.now();

  const result = await Database.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${destinationHmac}, 0))`);
    const since = (ms: number) => new Date(now.getTime() - ms);
    const hourAgo = since(hour).toISOString();
    // The project's codes of the last hour, counted once for every rule that reads them.
    const [recent] = await tx.execute<{
      last: string | null;
      ten_minutes: number;
      ip_hour: number;
      prefix_hour: number;
      project_hour: number;
    }>(sql`
      select max(created_at) filter (where destination_hmac = ${destinationHmac}) as last,
             count(*) filter (where destination_hmac = ${destinationHmac}
                                and created_at > ${since(10 * minute).toISOString()})::int as ten_minutes,
             count(*) filter (where client_ip_hmac = ${clientIpHmac})::int as ip_hour,
             count(*) filter (where prefix_hmac = ${prefixHmac})::int as prefix_hour,
             count(*)::int as project_hour
      from ${otps} where project_id = ${projectId} and created_at > ${hourAgo}`);
    const [failures] = await tx
      .select({ n: count(), oldest: sql<string | null>`min(${otpFailures.at})` })
      .from(otpFailures)
      .where(
        and(
          eq(otpFailures.projectId, projectId),
          eq(otpFailures.destinationHmac, destinationHmac),
          gt(otpFailures.at, since(hour)),
        ),
      );

    const wait = (from: string | null | undefined, ms: number) =>
      Math.max(
        1,
        Math.ceil(((from ? new Date(from).getTime() : now.getTime()) + ms - now.getTime()) / 1000),
      );
    let refusal: { reason: Reason; retryAfterSeconds: number; limit: number } | undefined;
    if (failures!.n >= rules.failuresPerDestinationPerHour) {
      refusal = {
        reason: "otp_locked",
        retryAfterSeconds: wait(failures!.oldest, hour),
        limit: rules.failuresPerDestinationPerHour,
      };
    } else if (
      recent!.last &&
      new Date(recent!.last).getTime() > now.getTime() - rules.cooldownMs
    ) {
      refusal = {
        reason: "otp_cooldown",
        retryAfterSeconds: wait(recent!.last, rules.cooldownMs),
        limit: 1,
      };
    } else if (recent!.ten_minutes >= rules.codesPerDestinationPer10Min) {
      refusal = {
        reason: "otp_destination_limit",
        retryAfterSeconds: 10 * 60,
        limit: rules.codesPerDestinationPer10Min,
      };
    } else if (recent!.ip_hour >= rules.codesPerIpPerHour) {
      refusal = {
        reason: "otp_ip_limit",
        retryAfterSeconds: 60 * 60,
        limit: rules.codesPerIpPerHour,
      };
    } else if (recent!.prefix_hour >= rules.codesPerPrefixPerHour) {
      refusal = {
        reason: "otp_prefix_limit",
        retryAfterSeconds: 60 * 60,
        limit: rules.codesPerPrefixPerHour,
      };
    } else if (recent!.project_hour >= rules.codesPerProjectPerHour) {
      refusal = {
        reason: "otp_project_limit",
        retryAfterSeconds: 60 * 60,
        limit: rules.codesPerProjectPerHour,
      };
    }
    if (refusal) {
      // Committed with the transaction: the refusal is thrown after it.
      await Fraud.record({ destinationHmac, clientIpHmac, rule: refusal.reason });
      return { refusal };
    }

    const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
    const [otp] = await tx
      .insert(otps)
      .values({
        projectId,
        keyId: Actor.keyId(),
        channel: input.channel,
        destinationHmac,
        destinationMasked: mask(destination),
        purpose: input.purpose,
        length: input.length,
        status: "pending",
        clientIpHmac,
        prefixHmac,
        expiresAt,
        createdAt: now,
      })
      .returning({ id: otps.id });
    const written = await Notification.write({
      channel: input.channel,
      content: {
        otp: { id: otp!.id },
        ...(sms ? { type: "transactional" } : { from: settings.email.from, replyTo: null }),
        ...(template
          ? { template: { key: template.key, locale: template.locale, version: template.version } }
          : sms
            ? { text: builtInSms[language] ?? builtInSms.en! }
            : source),
      },
      variables: { purpose: input.purpose, expiresInMinutes: Math.round(input.ttlSeconds / 60) },
      tags: { otp: "true" },
      recipients: [
        { position: 0, address: input.to, name: null, variables: null, status: "queued" },
      ],
      counts: { accepted: 1, suppressed: 0, unsubscribed: 0, duplicates: 0 },
    });
    await tx.update(otps).set({ deliveryId: written.deliveryIds[0] }).where(eq(otps.id, otp!.id));
    await Fact.emit(facts.issued, projectId, { otpId: otp!.id, channel: input.channel });
    return { id: otp!.id, expiresAt };
  });

  if ("refusal" in result) {
    Log.count("FraudRefusals");
    const { reason, retryAfterSeconds, limit } = result.refusal!;
    throw new AppError(reason, refusals[reason]!, { retryAfterSeconds, limit, remaining: 0 });
  }
  Log.count("OtpIssued");
  return {
    id: result.id,
    channel: input.channel,
    to: mask(destination),
    expiresAt: result.expiresAt.toISOString(),
    resendAvailableAt: new Date(now.getTime() + rules.cooldownMs).toISOString(),
  };
}

/**
 * Checks a code of the actor's project in one statement: the attempt is counted and the code
 * compared (as HMACs) in the same conditional UPDATE, so concurrent checks can neither both succeed
 * nor exceed the attempts.
 */
export async function verify(id: string, code: string): Promise<Verified> {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) return { valid: false, reason: "not_found", attemptsRemaining: 0 };
  const now = Clock.now().toISOString();
  const hourAgo = new Date(Clock.now().getTime() - hour).toISOString();
  const codeHmac = /^\d{4,10}$/.test(code) ? hmac(id, code) : "";
  const [row] = await Database.use().execute<{
    status: string | null;
    expired: boolean | null;
    attempts: number | null;
    locked: boolean;
    checked: boolean | null;
    valid: boolean | null;
    after: number | null;
    destination_hmac: string | null;
  }>(sql`
    with target as (
      select * from ${otps} where id = ${id} and project_id = ${projectId}
    ), lock as (
      select count(*) >= ${rules.failuresPerDestinationPerHour} as locked
      from ${otpFailures} f join target t
        on f.project_id = t.project_id and f.destination_hmac = t.destination_hmac
      where f.at > ${hourAgo}
    ), attempt as (
      update ${otps} o
      set attempts = o.attempts + 1,
          status = case when o.code_hmac = ${codeHmac} then 'verified' else o.status end,
          verified_at = case when o.code_hmac = ${codeHmac} then ${now}::timestamptz else null end
      from lock
      where o.id = ${id} and o.project_id = ${projectId} and o.status = 'pending'
        and o.expires_at > ${now} and o.attempts < ${rules.checksPerCode}
        and o.code_hmac is not null and not lock.locked
      returning o.status = 'verified' as valid, o.attempts as after
    ), failure as (
      insert into ${otpFailures} (project_id, destination_hmac, at)
      select t.project_id, t.destination_hmac, ${now} from target t join attempt a on not a.valid
    )
    select t.status, t.expires_at <= ${now} as expired, t.attempts, t.destination_hmac,
           (select locked from lock) as locked,
           a.valid is not null as checked, a.valid, a.after
    from (select 1) one
    left join target t on true
    left join attempt a on true`);
  if (!row?.status) return { valid: false, reason: "not_found", attemptsRemaining: 0 };
  const announce = async (
    fact: (typeof facts)["verified" | "failed" | "locked"],
    metric: string,
  ) => {
    Log.count(metric);
    await Fact.emit(fact, projectId, { otpId: id });
  };
  if (row.valid) {
    await announce(facts.verified, "OtpVerified");
    return { valid: true };
  }
  if (row.checked) {
    await announce(facts.failed, "OtpFailed");
    return { valid: false, reason: "invalid", attemptsRemaining: rules.checksPerCode - row.after! };
  }
  // Not checked. The statement's snapshot may predate a concurrent check that used the last
  // attempt or the code, so the reason is read from the row as it is now.
  const [current] = await Database.use()
    .select({ status: otps.status, attempts: otps.attempts, expiresAt: otps.expiresAt })
    .from(otps)
    .where(eq(otps.id, id));
  const reason: z.infer<typeof VerifyReason> =
    current!.status === "verified"
      ? "used"
      : current!.status === "canceled"
        ? "canceled"
        : current!.expiresAt <= Clock.now()
          ? "expired"
          : row.locked
            ? "locked"
            : current!.attempts >= rules.checksPerCode
              ? "max_attempts"
              : "invalid"; // not sent yet: no code can match
  if (reason === "locked") await announce(facts.locked, "OtpLocked");
  if (reason === "locked" || reason === "max_attempts") {
    await Fraud.record({
      otpId: id,
      destinationHmac: row.destination_hmac,
      rule: `verify_${reason}`,
    });
  }
  return {
    valid: false,
    reason,
    attemptsRemaining: Math.max(0, rules.checksPerCode - current!.attempts),
  };
}

async function find(id: string) {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) throw new AppError("not_found", `OTP ${id} not found`);
  const [row] = await Database.use()
    .select()
    .from(otps)
    .where(and(eq(otps.projectId, projectId), eq(otps.id, id)));
  if (!row) throw new AppError("not_found", `OTP ${id} not found`);
  return row;
}

function toStatus(row: typeof otps.$inferSelect): z.infer<typeof Status> {
  const expired = row.status === "pending" && row.expiresAt <= Clock.now();
  return {
    id: row.id,
    channel: row.channel as Sent["channel"],
    to: row.destinationMasked,
    purpose: row.purpose,
    status: expired ? "expired" : (row.status as "pending" | "verified" | "canceled"),
    attemptsRemaining: Math.max(0, rules.checksPerCode - row.attempts),
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

export async function get(id: string) {
  return toStatus(await find(id));
}

/** Cancels a pending code; a message not yet sent is then not sent. */
export async function cancel(id: string) {
  const projectId = Actor.projectId();
  await find(id);
  await Database.use()
    .update(otps)
    .set({ status: "canceled" })
    .where(and(eq(otps.projectId, projectId), eq(otps.id, id), eq(otps.status, "pending")));
  return toStatus(await find(id));
}

/**
 * Sweeper: forgets OTPs expired a day ago (their message's address is masked: only the HMAC
 * outlives them), and failures and fraud events past their retention.
 */
export async function purge(fraudRetentionMs = 90 * 24 * hour): Promise<number> {
  const dayAgo = new Date(Clock.now().getTime() - 24 * hour);
  const purged = await Database.transaction(async (tx) => {
    const rows = await tx
      .delete(otps)
      .where(lt(otps.expiresAt, dayAgo))
      .returning({ deliveryId: otps.deliveryId, masked: otps.destinationMasked });
    await Delivery.replaceAddresses(
      rows.flatMap(({ deliveryId, masked }) =>
        deliveryId ? [{ id: deliveryId, address: masked }] : [],
      ),
    );
    return rows.length;
  });
  await Database.use().delete(otpFailures).where(lt(otpFailures.at, dayAgo));
  await Fraud.purge(fraudRetentionMs);
  return purged;
}
