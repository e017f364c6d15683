import { afterEach, describe, expect, it, vi } from "vitest";
import { pacer } from "./pacer";

afterEach(() => vi.useRealTimers());

describe("pacer", () => {
  it("spaces concurrent callers 1/rate apart", async () => {
    vi.useFakeTimers({ now: 0 });
    const pace = pacer(10); // 100 ms apart
    const done: number[] = [];
    const calls = [0, 1, 2, 3].map((i) => pace().then(() => done.push(i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(calls);
    expect(done).toEqual([0, 1, 2, 3]);
    expect(Date.now()).toBe(300);
  });
});
