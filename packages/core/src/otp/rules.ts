import * as Crypto from "../crypto";

/**
 * The limits of one-time codes (NIST SP 800-63B and OWASP ASVS, stricter than Twilio Verify and
 * Supabase): a code takes 5 checks; a destination 10 wrong codes an hour, then it is locked; a
 * code per destination each 30 s and 5 each 10 minutes; a project 1,000 codes an hour, a client IP
 * 20, an SMS number range 10 (against SMS pumping).
 */
export interface Rules {
  checksPerCode: number;
  /** SMS: codes per number range (the number without its last 4 digits), against SMS pumping. */
  codesPerPrefixPerHour: number;
  failuresPerDestinationPerHour: number;
  cooldownMs: number;
  codesPerDestinationPer10Min: number;
  codesPerProjectPerHour: number;
  codesPerIpPerHour: number;
}

export const defaultRules: Readonly<Rules> = Object.freeze({
  checksPerCode: 5,
  codesPerPrefixPerHour: 10,
  failuresPerDestinationPerHour: 10,
  cooldownMs: 30_000,
  codesPerDestinationPer10Min: 5,
  codesPerProjectPerHour: 1_000,
  codesPerIpPerHour: 20,
});

let current: Readonly<Rules> = defaultRules;

/**
 * Entry points set the pepper (a secret) and, where they differ from the defaults, the rules, once
 * at start. The defaults are never changed: the rules in force are a new object.
 */
export function configure(options: { pepper: string; rules?: Partial<Rules> }): void {
  Crypto.configure(options);
  current = Object.freeze({ ...defaultRules, ...options.rules });
}

/** The rules in force. */
export const rules = (): Readonly<Rules> => current;
