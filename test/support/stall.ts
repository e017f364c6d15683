import { vi } from "vitest";

/**
 * Moves the clock `ms` on, once, at the first time check LiquidJS makes inside a render: what a
 * render sees when its process waits that long for a core (a busy machine, a throttled Lambda)
 * without using any CPU meanwhile. Undone by `vi.restoreAllMocks()`.
 */
export function stallRenderClock(ms: number): void {
  const now = performance.now.bind(performance);
  let offset = 0;
  vi.spyOn(performance, "now").mockImplementation(() => {
    if (offset === 0 && new Error().stack?.includes("renderTemplates")) offset = ms;
    return now() + offset;
  });
}
