// What every part of the bench configures Pregón with: the bench process, the API servers it
// spawns (bench/server.ts) and the `npm start` it kills. Kept apart from stack.ts so a server
// child loads none of the emulators.
import type { Otp } from "@pregon/core";

export const region = "us-east-1";
export const pepper = "bench-pepper-0123456789abcdefghijklmnopqrstuvwxyz";
/** Every address the benchmarks send to ends in this domain (the sender must be configured too). */
export const settings = {
  email: { from: "Pregón <no-reply@pregon.bench>", senders: ["@pregon.bench"] },
  sms: { countries: ["ES", "MX", "US"] },
};
/** The load and fault runs issue codes far faster than one project's hourly budget. */
export const otpRules: Partial<Otp.Rules> = {
  codesPerProjectPerHour: 100_000_000,
  codesPerIpPerHour: 100_000_000,
};
