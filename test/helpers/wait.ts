/**
 * The one wait of the test suite: until a readiness condition holds (a log line seen, a packet received, a row
 * written…), polling every `everyMs`; throws naming it. A predicate may be async (a database query).
 * Waits on time itself go through a ManualClock (src/shared/clock.ts), never through a fixed sleep.
 */
export async function until(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
