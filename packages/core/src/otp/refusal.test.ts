import { describe, expect, it } from "vitest";
import { type Recent, refusalOf } from "./refusal";
import { defaultRules } from "./rules";

const now = new Date("2026-01-01T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);
const quiet = {
  last: undefined,
  tenMinutes: 0,
  ipHour: 0,
  prefixHour: 0,
  projectHour: 0,
  failures: 0,
  oldestFailure: undefined,
};

describe("the refusal of a code", () => {
  it("is none below every limit", () => {
    expect(refusalOf(quiet, defaultRules, now)).toBeUndefined();
    expect(refusalOf({ ...quiet, last: ago(31_000), tenMinutes: 4 }, defaultRules, now)).toBe(
      undefined,
    );
  });

  it("names the first rule broken, in order: lock, cooldown, destination, IP, range, project", () => {
    const everything = {
      last: ago(1_000),
      tenMinutes: 5,
      ipHour: 20,
      prefixHour: 10,
      projectHour: 1_000,
      failures: 10,
      oldestFailure: ago(50 * 60_000),
    };
    const order = [
      ["otp_locked", { failures: 0 }],
      ["otp_cooldown", { last: undefined }],
      ["otp_destination_limit", { tenMinutes: 0 }],
      ["otp_ip_limit", { ipHour: 0 }],
      ["otp_prefix_limit", { prefixHour: 0 }],
      ["otp_project_limit", { projectHour: 0 }],
    ] as const;
    let recent: Recent = { ...everything };
    for (const [reason, lifted] of order) {
      expect(refusalOf(recent, defaultRules, now)?.reason).toBe(reason);
      recent = { ...recent, ...lifted };
    }
    expect(refusalOf(recent, defaultRules, now)).toBeUndefined();
  });

  it("says when to try again: when the oldest failure or the last code leaves its window", () => {
    const locked = { ...quiet, failures: 10, oldestFailure: ago(50 * 60_000) };
    expect(refusalOf(locked, defaultRules, now)).toMatchObject({
      retryAfterSeconds: 10 * 60,
      limit: 10,
    });
    const cooling = { ...quiet, last: ago(12_500) };
    expect(refusalOf(cooling, defaultRules, now)).toMatchObject({
      reason: "otp_cooldown",
      retryAfterSeconds: 18,
      limit: 1,
    });
    expect(refusalOf({ ...quiet, ipHour: 20 }, defaultRules, now)).toMatchObject({
      retryAfterSeconds: 3_600,
      limit: defaultRules.codesPerIpPerHour,
    });
  });
});
