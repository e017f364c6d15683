import { createHmac, randomInt } from "node:crypto";
import { and, eq, gt } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../db";
import { otps } from "./otp.sql";

let pepper: string | undefined;

/** Entry points set the OTP pepper (a secret) once at start. */
export function configure(options: { pepper: string }): void {
  if (options.pepper.length < 32) throw new Error("The OTP pepper must have 32 characters or more");
  pepper = options.pepper;
}

/** HMAC-SHA256 under the pepper: what Postgres keeps instead of codes, destinations and IPs. */
export function hmac(...parts: string[]): string {
  if (!pepper) throw new Error("OTP pepper not configured: call Otp.configure() at start");
  return createHmac("sha256", pepper).update(parts.join("\0")).digest("hex");
}

/**
 * The sender's step: a fresh code from the CSPRNG, of which only HMAC(id, code) is stored, and only
 * while the OTP is pending and unexpired. A retried send replaces the previous code. Returns the
 * code to put in the message, or undefined when the OTP may no longer be sent.
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
