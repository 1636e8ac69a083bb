/** Exponential back-off between attempts of one outbox job. */
export interface RetryPolicy {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** The delay doubles per attempt up to this cap, then stays there — for as long as the outage lasts. */
  maxMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = { baseMs: 30_000, maxMs: 60 * 60_000 };

/**
 * Delay before the next attempt after `attempts` failed ones (1 → baseMs, 2 → 2·baseMs, …, capped at maxMs).
 * There is no attempt limit: a relay that is down for days gets every mail once it is back.
 */
export function retryDelayMs(attempts: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 40);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}
