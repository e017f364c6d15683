import { lt } from "drizzle-orm";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Log from "../log";
import { countryOf } from "../phone";
import { fraudEvents } from "./fraud.sql";

/** What a refusal names; the project and the key are the actor's. */
export type Event = Omit<typeof fraudEvents.$inferInsert, "at" | "projectId" | "keyId">;

/** Records a refused request as a fraud event (OTP rules, SMS countries). */
export async function record(event: Event): Promise<void> {
  await Database.use()
    .insert(fraudEvents)
    .values({ ...event, projectId: Actor.projectId(), keyId: Actor.keyId(), at: Clock.now() });
}

/**
 * Refuses an SMS to a number outside the allowed countries (SMS pumping sends to expensive
 * destinations): the refusal is recorded as a fraud event, then thrown naming `field`.
 */
export async function assertSmsCountry(
  phone: string,
  countries: string[],
  field: string,
  event: Omit<Event, "rule">,
): Promise<void> {
  const country = countryOf(phone);
  if (country && countries.includes(country)) return;
  await record({ ...event, rule: "sms_country_not_allowed" });
  Log.count("FraudRefusals");
  throw new AppError(
    "sms_country_not_allowed",
    `${field}: numbers of ${country ?? "this region"} are not allowed (allowed: ${countries.join(", ")})`,
  );
}

/** Sweeper: forgets fraud events older than `retentionMs`. */
export async function purge(retentionMs: number): Promise<void> {
  await Database.use()
    .delete(fraudEvents)
    .where(lt(fraudEvents.at, new Date(Clock.now().getTime() - retentionMs)));
}
