/** Spaces calls at least 1/rate seconds apart, however many callers wait at once. */
export function pacer(ratePerSecond: number): () => Promise<void> {
  const interval = 1000 / ratePerSecond;
  let next = 0;
  return async () => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at > now) await new Promise((done) => setTimeout(done, at - now));
  };
}
