import { inArray } from "drizzle-orm";
import type { Channel as ChannelName } from "../channel";
import * as Database from "../db";
import { AppError, SendError } from "../error";
import * as Log from "../log";
import * as Notification from "../notification";
import { notifications } from "../notification/notification.sql";
import type { Variables } from "../template/render";
import * as Delivery from "./index";

type Row = Delivery.Row;
type NotificationRow = typeof notifications.$inferSelect;

/** How one channel sends: what the dispatcher needs beyond leasing, retries and recording. */
export interface Channel<Prepared> {
  name: ChannelName;
  /** Metric names: `${metric}Sent`, `${metric}Failed`. */
  metric: string;
  /** Once per notification of the queue message (compile its templates, say). */
  prepare(notification: NotificationRow): Promise<Prepared>;
  /**
   * Sends one delivery with its variables (the shared ones, the recipient's own and what the
   * content hook added). Throws SendError (or AppError: permanent).
   */
  send(
    delivery: Row,
    prepared: Prepared,
    variables: Variables,
  ): Promise<{ messageId: string; segments?: number }>;
}

/**
 * Runs before each send: the variables made at send time for this delivery (`{}` for none), or
 * undefined when its message may no longer be sent (it is then marked expired). A one-time code's
 * message gets its code here, and only here: the code exists from this moment on.
 */
export type ContentHook = (
  notification: NotificationRow,
  delivery: Row,
) => Promise<Variables | undefined>;

export interface DispatchOptions {
  /** What every send's variables get at send time. */
  hook: ContentHook;
  /** Resolves when the next send fits the provider's rate. */
  pace: () => Promise<void>;
  /** How long a sender owns the deliveries it leases; under the queue's visibility timeout. */
  leaseMs: number;
  /** The queue message's last receive: what cannot be sent now is marked failed. */
  lastReceive: boolean;
  /** Sends in flight at once. */
  concurrency?: number;
  /** Tries per send for transient errors, with exponential backoff. */
  tries?: number;
}

/** A message the content hook says may no longer be sent. */
class Gone extends Error {}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** An error no retry can change: the provider's refusal, or content that does not render. */
const isPermanent = (error: unknown) =>
  error instanceof AppError || (error instanceof SendError && error.permanent);

async function withRetries<T>(send: () => Promise<T>, tries: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (isPermanent(error) || attempt >= tries) throw error;
      await sleep(100 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

/**
 * Sends the deliveries of one queue message. Leased ones are sent through `channel`; each is
 * recorded `sent` (with the provider's id) or `failed` as soon as the provider answers. Returns
 * `retry: true` when a transient error left some for the message's next receive; on the last
 * receive those are marked failed, and `retry` still sends the message on to the DLQ, where an
 * operator sees the outage.
 */
export function dispatch<Prepared>(
  deliveryIds: string[],
  options: DispatchOptions,
  channel: Channel<Prepared>,
): Promise<{ retry: boolean }> {
  // Each status is committed as soon as the provider answers; the facts of them all are published
  // together once the message is done (or the batch around it: a sender's whole invocation).
  return Database.batch(() => send(deliveryIds, options, channel));
}

async function send<Prepared>(
  deliveryIds: string[],
  options: DispatchOptions,
  channel: Channel<Prepared>,
): Promise<{ retry: boolean }> {
  const leased = await Delivery.lease(deliveryIds, options.leaseMs);
  if (leased.length === 0) return { retry: false };
  const notificationIds = [...new Set(leased.map((row) => row.notificationId))];
  const rows = await Database.use()
    .select()
    .from(notifications)
    .where(inArray(notifications.id, notificationIds));
  // Content that no longer compiles (accepted under older rules) fails its deliveries, not the batch.
  const byId = new Map(
    await Promise.all(
      rows.map(async (row) => {
        const prepared = await channel.prepare(row).then(
          (value) => ({ value }),
          (error: unknown) => {
            if (error instanceof AppError) return { error };
            throw error;
          },
        );
        return [row.id, { row, prepared }] as const;
      }),
    ),
  );

  // A send's `sent` is written before its worker sends again, so no more than `concurrency` emails
  // SES accepted are ever unrecorded; those recorded while another write is under way go together.
  const record = Database.grouped(Delivery.markSent);
  let retry = false;
  const queue = [...leased];
  const worker = async () => {
    for (let delivery = queue.shift(); delivery; delivery = queue.shift()) {
      const { row, prepared } = byId.get(delivery.notificationId)!;
      try {
        if ("error" in prepared) throw prepared.error;
        const added = await options.hook(row, delivery);
        if (added === undefined) throw new Gone();
        const variables: Variables = {
          ...(row.variables as Variables),
          ...(delivery.variables as Variables),
          ...added,
        };
        await options.pace();
        const sent = await withRetries(
          () => channel.send(delivery, prepared.value, variables),
          options.tries ?? 3,
        );
        await record([
          { id: delivery.id, providerMessageId: sent.messageId, segments: sent.segments },
        ]);
        Log.count(`${channel.metric}Sent`);
        Log.metrics().addMetric(
          "SendLatency",
          Log.MetricUnit.Milliseconds,
          Date.now() - delivery.createdAt.getTime(),
        );
      } catch (error) {
        if (error instanceof Gone) {
          await Delivery.markExpired(delivery.id);
          continue;
        }
        const permanent = isPermanent(error);
        const reason = error instanceof Error ? error.message : String(error);
        if (!permanent) retry = true;
        if (permanent) {
          await Delivery.markFailed(delivery.id, reason);
          Log.count(`${channel.metric}Failed`);
        } else if (options.lastReceive) {
          await Delivery.markFailed(delivery.id, `${Delivery.gaveUp}${reason}`);
          Log.count(`${channel.metric}Failed`);
        } else {
          await Delivery.release(delivery.id);
        }
        // The reason stays in the delivery row: provider messages may quote the address.
        Log.logger.warn(`${channel.name} delivery failed`, {
          deliveryId: delivery.id,
          notificationId: delivery.notificationId,
          permanent,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  // After the statuses committed: a notification whose last deliveries were these completes now.
  await Notification.complete(notificationIds);
  return { retry };
}

/** Last receive of a message whose processing keeps failing: fails what is still pending. */
export function abandon(deliveryIds: string[], reason: string): Promise<void> {
  return Database.batch(async () => {
    const leased = await Delivery.lease(deliveryIds, 60_000);
    for (const row of leased) await Delivery.markFailed(row.id, `${Delivery.gaveUp}${reason}`);
    await Notification.complete([...new Set(leased.map((row) => row.notificationId))]);
  });
}
