import { desc, sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Delivery from "../delivery";
import * as Device from "../device";
import { promotions } from "./region.sql";

export interface Promotion {
  region: string;
  /** When this region took over: the deliveries queued before it are the previous region's. */
  promotedAt: string;
  /** A second run of the same promotion (the newest one was already this region's). */
  again: boolean;
  /** `sending` deliveries whose lease had ended, put back on their queue. */
  requeued: number;
  /** `queued` deliveries of the previous region, put on this region's queues. */
  republished: number;
  /** Push endpoints made in another region's platform application, forgotten. */
  endpointsForgotten: number;
}

/**
 * After a failover: `region`'s stage now owns the database, and the messages the previous region
 * had on its queues are out of reach. Every delivery it had `queued` goes on this region's queue of
 * its channel, once: the first run records the promotion and its time, and a later run of the same
 * promotion only republishes deliveries queued before that time and not touched since, which the
 * first run's republish has touched. Deliveries still `sending` whose lease has ended (their sender
 * was in the lost region) go back on their queue; one whose lease still runs is left to a later run
 * or to the sweeper, which requeues it once its lease is a visibility timeout old.
 */
export async function promote(region: string): Promise<Promotion> {
  const { promotedAt, again } = await Database.transaction(async (tx) => {
    // Two runs at once agree on one promotion.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('pregon.region.promote'))`);
    const [latest] = await tx.select().from(promotions).orderBy(desc(promotions.id)).limit(1);
    if (latest?.region === region) return { promotedAt: latest.promotedAt, again: true };
    const [row] = await tx
      .insert(promotions)
      .values({ region, promotedAt: Clock.now() })
      .returning();
    return { promotedAt: row!.promotedAt, again: false };
  });
  // First the abandoned leases: they become `queued` now, after `promotedAt`, so the republish
  // below does not publish them a second time.
  const requeued = await Delivery.requeueAbandoned(0);
  const republished = await Delivery.republishQueuedBefore(promotedAt);
  // Every run, so a run that died before this line is completed by the next; an endpoint this
  // region's sender made meanwhile is made again on its next send (SNS returns the same one).
  const endpointsForgotten = await Device.forgetEndpoints();
  return {
    region,
    promotedAt: promotedAt.toISOString(),
    again,
    requeued,
    republished,
    endpointsForgotten,
  };
}

/** The region that took over last, if a promotion was ever recorded. */
export async function current(): Promise<{ region: string; promotedAt: string } | undefined> {
  const [latest] = await Database.use()
    .select()
    .from(promotions)
    .orderBy(desc(promotions.id))
    .limit(1);
  return latest && { region: latest.region, promotedAt: latest.promotedAt.toISOString() };
}
