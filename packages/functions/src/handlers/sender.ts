import * as Actor from "@pregon/core/actor";
import * as Database from "@pregon/core/db";
import * as Delivery from "@pregon/core/delivery";
import * as Dispatch from "@pregon/core/delivery/dispatch";
import * as Email from "@pregon/core/email";
import * as Log from "@pregon/core/log";
import * as Otp from "@pregon/core/otp";
import * as Push from "@pregon/core/push";
import * as Sms from "@pregon/core/sms";
import { leaseMs, maxReceiveCount } from "@pregon/pipelines";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { pacer } from "./pacer";
import { parseBody, queueConsumer, ReceiveAgain } from "./sqs";

/** Time kept in hand for the database writes after the last send. */
const safetyMarginMs = 3_000;

const Message = z.object({ deliveryIds: z.array(z.uuid()).min(1) });

type Deliver = (
  deliveryIds: string[],
  options: Pick<Dispatch.DispatchOptions, "hook" | "pace" | "leaseMs" | "lastReceive">,
) => Promise<{ retry: boolean }>;

/**
 * A channel queue's consumer: each record names up to 50 deliveries. A record whose deliveries
 * could not all be settled is reported in `batchItemFailures` and comes back after the visibility
 * timeout; on its last receive what is still pending is marked failed before it moves to the DLQ.
 */
export function createSender(channel: string, deliver: Deliver, options: { sendRate: number }) {
  const pace = pacer(options.sendRate);
  // A record that cannot be finished before the function times out is left for another receive
  // rather than cut off mid-way (a timeout would return the whole batch).
  const needed = (Delivery.idsPerMessage * 1000) / options.sendRate + safetyMarginMs;
  /** Sends one record's deliveries; false when the record must come back. */
  const send = async (record: SQSRecord): Promise<boolean> => {
    const lastReceive = Number(record.attributes.ApproximateReceiveCount) >= maxReceiveCount;
    const message = parseBody(Message, record.body);
    if (!message) {
      Log.logger.error(`malformed ${channel} queue message`, { messageId: record.messageId });
      return false;
    }
    try {
      // A one-time code's message gets its code now, or is not sent once the code is gone.
      const { retry } = await deliver(message.deliveryIds, {
        hook: Otp.contentHook,
        pace,
        leaseMs,
        lastReceive,
      });
      return !retry;
    } catch (error) {
      Log.logger.error(`${channel} batch failed`, { messageId: record.messageId, error });
      if (lastReceive) {
        await Dispatch.abandon(
          message.deliveryIds,
          `the batch failed ${maxReceiveCount} times`,
        ).catch((cause) =>
          Log.logger.error("could not mark abandoned deliveries", { error: cause }),
        );
      }
      return false;
    }
  };
  const consume = queueConsumer(async (record, context) => {
    const done =
      (!context || context.getRemainingTimeInMillis() >= needed) &&
      (await Actor.provide({ type: "system", reason: "sender" }, () => send(record)));
    if (!done) throw new ReceiveAgain(`${channel} message not settled`);
  });
  // The facts of every record's deliveries are published together once all are done (they are
  // committed as each delivery is settled; a publish that does not happen is the sweeper's).
  return (event: SQSEvent, context?: Context) => Database.batch(() => consume(event, context));
}

/** The email queue's consumer: SES (or the local mailbox) through `mailer`, at `sendRate`. */
export const createEmailSender = (options: { mailer: Email.Mailer; sendRate: number }) =>
  createSender(
    "email",
    (deliveryIds, dispatch) => Email.deliver(deliveryIds, { ...dispatch, mailer: options.mailer }),
    options,
  );

/** The SMS queue's consumer: SNS (or the local inbox) through `gateway`, at `sendRate`. */
export const createSmsSender = (options: { gateway: Sms.SmsGateway; sendRate: number }) =>
  createSender(
    "sms",
    (deliveryIds, dispatch) => Sms.deliver(deliveryIds, { ...dispatch, gateway: options.gateway }),
    options,
  );

/** Push notifications per second each sender instance publishes at. */
export const pushRate = 100;

/** The push queue's consumer: SNS mobile push (or the local inbox) through `gateway`. */
export const createPushSender = (options: { gateway: Push.PushGateway; sendRate?: number }) =>
  createSender(
    "push",
    (deliveryIds, dispatch) => Push.deliver(deliveryIds, { ...dispatch, gateway: options.gateway }),
    { sendRate: options.sendRate ?? pushRate },
  );
