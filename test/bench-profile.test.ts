import { describe, expect, it } from "vitest";
import { type CpuProfile, summarise } from "../bench/profile";

const frame = (functionName: string) => ({ functionName, url: "", lineNumber: 0 });

describe("bench profile summary", () => {
  it("charges a function no more than two sampling intervals for a sample before a long gap", () => {
    // work, then the process is off the core for 50 ms, then work, then idle.
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("work") },
        { id: 2, callFrame: frame("(idle)") },
      ],
      startTime: 0,
      endTime: 53_000,
      samples: [1, 1, 1, 2],
      timeDeltas: [1_000, 1_000, 50_000, 1_000],
    };
    const summary = summarise(profile, [[0, 60_000]]);
    expect(summary.windowMs).toBe(53);
    // 1 ms + 2 ms (the 50 ms gap capped) + 1 ms for the last work sample.
    expect(summary.busyMs).toBe(4);
    expect(summary.functions[0]).toMatchObject({ name: "work", ms: 4, share: 1 });
  });
});
