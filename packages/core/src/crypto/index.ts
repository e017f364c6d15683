import { createHmac, createSecretKey, type KeyObject } from "node:crypto";

/** The pepper as a key object: made once, not imported again by every HMAC (10,000 in a send). */
let pepper: KeyObject | undefined;

/** Entry points set the pepper (a secret) once at start, through `Otp.configure`. */
export function configure(options: { pepper: string }): void {
  if (options.pepper.length < 32) throw new Error("The OTP pepper must have 32 characters or more");
  pepper = createSecretKey(Buffer.from(options.pepper, "utf8"));
}

/**
 * HMAC-SHA256 under the pepper: what Postgres keeps instead of codes, destinations and IPs. The
 * parts are joined with NUL, which none of them contains.
 */
export function hmac(...parts: string[]): string {
  if (!pepper) throw new Error("OTP pepper not configured: call Otp.configure() at start");
  return createHmac("sha256", pepper).update(parts.join("\0")).digest("hex");
}
