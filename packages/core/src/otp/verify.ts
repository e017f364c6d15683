import { eq, sql } from "drizzle-orm";
import * as Actor from "../actor";
import * as Clock from "../clock";
import { hmac } from "../crypto";
import * as Database from "../db";
import * as Fact from "../fact";
import * as Fraud from "../fraud";
import * as Log from "../log";
import * as Outbox from "../outbox";
import { otpFailures, otps } from "./otp.sql";
import { rules } from "./rules";
import { facts, type Verified, type VerifyReason } from "./schema";

const hour = 60 * 60_000;

/** What the one statement of a check found and did. */
type Checked = {
  status: string | null;
  expired: boolean | null;
  attempts: number | null;
  locked: boolean;
  /** The attempt was counted and the code compared. */
  checked: boolean | null;
  valid: boolean | null;
  /** The attempts after this one. */
  after: number | null;
  destination_hmac: string | null;
  /** The fact of the attempt (`otp.verified` or `otp.failed`), written with it. */
  outbox_ids: number[] | null;
};

/**
 * The check as one statement: the code's row, whether its destination is locked (too many wrong
 * codes in the hour), the attempt (counted and compared only while the code is pending, unexpired,
 * sent, under its checks and not locked), when wrong the destination's failure, and the attempt's
 * fact (verified or failed).
 */
async function check(
  projectId: string,
  id: string,
  codeHmac: string,
): Promise<Checked | undefined> {
  const { checksPerCode, failuresPerDestinationPerHour } = rules();
  const now = Clock.now().toISOString();
  const hourAgo = new Date(Clock.now().getTime() - hour).toISOString();
  const [row] = await Database.use().execute<Checked>(sql`
    with target as (
      select * from ${otps} where id = ${id} and project_id = ${projectId}
    ), lock as (
      select count(*) >= ${failuresPerDestinationPerHour} as locked
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
        and o.expires_at > ${now} and o.attempts < ${checksPerCode}
        and o.code_hmac is not null and not lock.locked
      returning o.status = 'verified' as valid, o.attempts as after
    ), failure as (
      insert into ${otpFailures} (project_id, destination_hmac, at)
      select t.project_id, t.destination_hmac, ${now} from target t join attempt a on not a.valid
    ), fact as (${Outbox.insertFrom({ topic: "events", body: attemptFact(projectId, id), from: sql`attempt` })})
    select t.status, t.expires_at <= ${now} as expired, t.attempts, t.destination_hmac,
           (select locked from lock) as locked,
           a.valid is not null as checked, a.valid, a.after,
           (select array_agg(id) from fact) as outbox_ids
    from (select 1) one
    left join target t on true
    left join attempt a on true`);
  return row;
}

/** The fact of a counted attempt, for a row of the check's `attempt`: verified, or failed. */
function attemptFact(projectId: string, id: string) {
  const data = { otpId: sql`${id}::text` };
  return sql`case when valid
    then ${Fact.sqlOf(facts.verified, sql`${projectId}::text`, data)}
    else ${Fact.sqlOf(facts.failed, sql`${projectId}::text`, data)} end`;
}

/**
 * Checks a code of the actor's project in one statement: the attempt is counted and the code
 * compared (as HMACs) in the same conditional UPDATE, so concurrent checks can neither both succeed
 * nor exceed the attempts.
 */
export async function verify(id: string, code: string): Promise<Verified> {
  const projectId = Actor.projectId();
  const { checksPerCode } = rules();
  if (!Database.isUuid(id)) return { valid: false, reason: "not_found", attemptsRemaining: 0 };
  const codeHmac = /^\d{4,10}$/.test(code) ? hmac(id, code) : "";
  const row = await check(projectId, id, codeHmac);
  if (!row?.status) return { valid: false, reason: "not_found", attemptsRemaining: 0 };
  if (row.checked) {
    Log.count(row.valid ? "OtpVerified" : "OtpFailed");
    await Outbox.written(row.outbox_ids);
    if (row.valid) return { valid: true };
    return { valid: false, reason: "invalid", attemptsRemaining: checksPerCode - row.after! };
  }
  // Not checked. The statement's snapshot may predate a concurrent check that used the last
  // attempt or the code, so the reason is read from the row as it is now.
  const [current] = await Database.use()
    .select({ status: otps.status, attempts: otps.attempts, expiresAt: otps.expiresAt })
    .from(otps)
    .where(eq(otps.id, id));
  const reason: VerifyReason =
    current!.status === "verified"
      ? "used"
      : current!.status === "canceled"
        ? "canceled"
        : current!.expiresAt <= Clock.now()
          ? "expired"
          : row.locked
            ? "locked"
            : current!.attempts >= checksPerCode
              ? "max_attempts"
              : "invalid"; // not sent yet: no code can match
  if (reason === "locked") {
    Log.count("OtpLocked");
    await Fact.emit(facts.locked, projectId, { otpId: id });
  }
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
    attemptsRemaining: Math.max(0, checksPerCode - current!.attempts),
  };
}
