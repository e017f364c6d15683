import { lt } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Delivery from "../delivery";
import * as Fraud from "../fraud";
import { otpFailures, otps } from "./otp.sql";

const hour = 60 * 60_000;

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
