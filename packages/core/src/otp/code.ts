import { randomInt } from "node:crypto";
import { and, eq, gt } from "drizzle-orm";
import * as Clock from "../clock";
import { hmac } from "../crypto";
import * as Database from "../db";
import type { ContentHook } from "../delivery/dispatch";
import { otps } from "./otp.sql";

/**
 * The send-time step: a fresh code from the CSPRNG, of which only HMAC(id, code) is stored, and
 * only while the OTP is pending and unexpired. A retried send replaces the previous code. Returns
 * the code to put in the message, or undefined when the OTP may no longer be sent.
 */
export async function issueCode(otpId: string): Promise<string | undefined> {
  const [otp] = await Database.use()
    .select({ length: otps.length })
    .from(otps)
    .where(eq(otps.id, otpId));
  if (!otp) return undefined;
  const code = String(randomInt(0, 10 ** otp.length)).padStart(otp.length, "0");
  const updated = await Database.use()
    .update(otps)
    .set({ codeHmac: hmac(otpId, code) })
    .where(and(eq(otps.id, otpId), eq(otps.status, "pending"), gt(otps.expiresAt, Clock.now())))
    .returning({ id: otps.id });
  return updated.length ? code : undefined;
}

/**
 * What the senders run before each send: a one-time code's message gets its `code`, made now; one
 * whose OTP expired, was used or was canceled before it was sent is not sent. Other messages get
 * nothing.
 */
export const contentHook: ContentHook = async (notification) => {
  const otp = (notification.content as { otp?: { id: string } }).otp;
  if (!otp) return {};
  const code = await issueCode(otp.id);
  return code === undefined ? undefined : { code };
};
