/** A heartbeat that proves the caller's event loop kept turning (isolation and bundling tests, unit and integration). */

/** Runs `body` while a 20 ms timer ticks; returns its value and the longest gap between ticks. */
export async function withHeartbeat<T>(body: () => Promise<T>): Promise<{ value: T; longestGapMs: number }> {
  let last = performance.now();
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, 20);
  try {
    const value = await body();
    longestGapMs = Math.max(longestGapMs, performance.now() - last);
    return { value, longestGapMs };
  } finally {
    clearInterval(timer);
  }
}
