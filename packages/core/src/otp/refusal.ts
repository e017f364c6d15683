import type { Reason } from "../error";
import type { Rules } from "./rules";

const minute = 60_000;
const hour = 60 * minute;

/** What a destination, a client IP, a number range and the project did in the last hour. */
export interface Recent {
  /** The destination's last code, if any in the hour. */
  last: Date | undefined;
  /** The destination's codes of the last 10 minutes. */
  tenMinutes: number;
  ipHour: number;
  prefixHour: number;
  projectHour: number;
  /** The destination's wrong codes of the last hour, and when the oldest of them was checked. */
  failures: number;
  oldestFailure: Date | undefined;
}

export interface Refusal {
  reason: Reason;
  message: string;
  retryAfterSeconds: number;
  limit: number;
}

/** Seconds until `ms` after `from` (now when unknown), at least 1. */
const secondsUntil = (now: Date, from: Date | undefined, ms: number) =>
  Math.max(1, Math.ceil(((from ?? now).getTime() + ms - now.getTime()) / 1000));

/**
 * The first rule `recent` breaks, in the order they are checked (a locked destination is told so
 * before its cooldown), or undefined when a code may be issued.
 */
export function refusalOf(recent: Recent, rules: Rules, now: Date): Refusal | undefined {
  const checks: Array<Refusal & { broken: boolean }> = [
    {
      broken: recent.failures >= rules.failuresPerDestinationPerHour,
      reason: "otp_locked",
      message: "Too many wrong codes for this destination; try again later",
      retryAfterSeconds: secondsUntil(now, recent.oldestFailure, hour),
      limit: rules.failuresPerDestinationPerHour,
    },
    {
      broken: !!recent.last && recent.last.getTime() > now.getTime() - rules.cooldownMs,
      reason: "otp_cooldown",
      message: "A code was just sent to this destination; wait before asking again",
      retryAfterSeconds: secondsUntil(now, recent.last, rules.cooldownMs),
      limit: 1,
    },
    {
      broken: recent.tenMinutes >= rules.codesPerDestinationPer10Min,
      reason: "otp_destination_limit",
      message: "Too many codes for this destination; try again later",
      retryAfterSeconds: (10 * minute) / 1000,
      limit: rules.codesPerDestinationPer10Min,
    },
    {
      broken: recent.ipHour >= rules.codesPerIpPerHour,
      reason: "otp_ip_limit",
      message: "Too many codes for this client IP; try again later",
      retryAfterSeconds: hour / 1000,
      limit: rules.codesPerIpPerHour,
    },
    {
      broken: recent.prefixHour >= rules.codesPerPrefixPerHour,
      reason: "otp_prefix_limit",
      message: "Too many codes for numbers of this range; try again later",
      retryAfterSeconds: hour / 1000,
      limit: rules.codesPerPrefixPerHour,
    },
    {
      broken: recent.projectHour >= rules.codesPerProjectPerHour,
      reason: "otp_project_limit",
      message: "This project issued too many codes in the last hour; try again later",
      retryAfterSeconds: hour / 1000,
      limit: rules.codesPerProjectPerHour,
    },
  ];
  const broken = checks.find((check) => check.broken);
  if (!broken) return undefined;
  const { reason, message, retryAfterSeconds, limit } = broken;
  return { reason, message, retryAfterSeconds, limit };
}
