import { and, count, eq, gt, sql } from "drizzle-orm";
import * as Actor from "../actor";
import * as Clock from "../clock";
import { hmac } from "../crypto";
import * as Database from "../db";
import type * as Email from "../email";
import { AppError } from "../error";
import * as Fact from "../fact";
import * as Fraud from "../fraud";
import * as Log from "../log";
import * as Notification from "../notification";
import { prefixOf } from "../phone";
import * as Template from "../template";
import { mask } from "./mask";
import { contentOf } from "./message";
import { otpFailures, otps } from "./otp.sql";
import { type Recent, refusalOf } from "./refusal";
import { rules } from "./rules";
import { facts, type SendInput, type Sent } from "./schema";

const minute = 60_000;
const hour = 60 * minute;

/** What the destination, the client IP, the number range and the project did in the last hour. */
async function recentOf(
  tx: Database.Tx,
  projectId: string,
  hmacs: { destination: string; clientIp: string | null; prefix: string | null },
  now: Date,
): Promise<Recent> {
  const since = (ms: number) => new Date(now.getTime() - ms);
  // The project's codes of the last hour, counted once for every rule that reads them.
  const [codes] = await tx.execute<{
    last: string | null;
    ten_minutes: number;
    ip_hour: number;
    prefix_hour: number;
    project_hour: number;
  }>(sql`
    select max(created_at) filter (where destination_hmac = ${hmacs.destination}) as last,
           count(*) filter (where destination_hmac = ${hmacs.destination}
                              and created_at > ${since(10 * minute).toISOString()})::int as ten_minutes,
           count(*) filter (where client_ip_hmac = ${hmacs.clientIp})::int as ip_hour,
           count(*) filter (where prefix_hmac = ${hmacs.prefix})::int as prefix_hour,
           count(*)::int as project_hour
    from ${otps} where project_id = ${projectId} and created_at > ${since(hour).toISOString()}`);
  const [failures] = await tx
    .select({ n: count(), oldest: sql<string | null>`min(${otpFailures.at})` })
    .from(otpFailures)
    .where(
      and(
        eq(otpFailures.projectId, projectId),
        eq(otpFailures.destinationHmac, hmacs.destination),
        gt(otpFailures.at, since(hour)),
      ),
    );
  const date = (value: string | null | undefined) => (value ? new Date(value) : undefined);
  return {
    last: date(codes!.last),
    tenMinutes: codes!.ten_minutes,
    ipHour: codes!.ip_hour,
    prefixHour: codes!.prefix_hour,
    projectHour: codes!.project_hour,
    failures: failures!.n,
    oldestFailure: date(failures!.oldest),
  };
}

/**
 * Issues a code in the actor's project: the rules are checked with the destination locked
 * (concurrent requests for one destination queue up, so none slips past the cooldown), then the
 * OTP row (no code yet), its message and the queue message are written in one transaction. The
 * code is made when the message is sent.
 */
export async function send(
  input: SendInput,
  settings: { email: Email.Settings; sms: { countries: string[] } },
): Promise<Sent> {
  const projectId = Actor.projectId();
  const sms = input.channel === "sms";
  const destination = sms ? input.to : input.to.toLowerCase();
  const hmacs = {
    destination: hmac("destination", projectId, input.channel, destination),
    clientIp: input.clientIp ? hmac("ip", projectId, input.clientIp) : null,
    prefix: sms ? hmac("prefix", projectId, prefixOf(destination)) : null,
  };
  if (sms) {
    await Fraud.assertSmsCountry(destination, settings.sms.countries, "to", {
      destinationHmac: hmacs.destination,
      clientIpHmac: hmacs.clientIp,
    });
  }
  const template = input.template
    ? await Template.ref(input.template.key, input.template.locale)
    : undefined;
  const now = Clock.now();

  const result = await Database.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${hmacs.destination}, 0))`);
    const refusal = refusalOf(await recentOf(tx, projectId, hmacs, now), rules(), now);
    if (refusal) {
      // Committed with the transaction: the refusal is thrown after it.
      await Fraud.record({
        destinationHmac: hmacs.destination,
        clientIpHmac: hmacs.clientIp,
        rule: refusal.reason,
      });
      return { refusal };
    }

    const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
    const [otp] = await tx
      .insert(otps)
      .values({
        projectId,
        keyId: Actor.keyId(),
        channel: input.channel,
        destinationHmac: hmacs.destination,
        destinationMasked: mask(destination),
        purpose: input.purpose,
        length: input.length,
        status: "pending",
        clientIpHmac: hmacs.clientIp,
        prefixHmac: hmacs.prefix,
        expiresAt,
        createdAt: now,
      })
      .returning({ id: otps.id });
    const written = await Notification.write({
      channel: input.channel,
      content: contentOf({
        otpId: otp!.id,
        channel: input.channel,
        template,
        locale: input.locale,
        from: settings.email.from,
      }),
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
    const { reason, message, retryAfterSeconds, limit } = result.refusal!;
    throw new AppError(reason, message, { retryAfterSeconds, limit, remaining: 0 });
  }
  Log.count("OtpIssued");
  return {
    id: result.id,
    channel: input.channel,
    to: mask(destination),
    expiresAt: result.expiresAt.toISOString(),
    resendAvailableAt: new Date(now.getTime() + rules().cooldownMs).toISOString(),
  };
}
