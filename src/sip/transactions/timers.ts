/**
 * SIP timer base values (RFC 3261 §17.1.1.1, Table 4) and the derived timers A…L.
 */
import { z } from 'zod';

export interface TimerValues {
  /** §17.1.1.1: "T1 is an estimate of the round-trip time (RTT), and it defaults to 500 ms." */
  readonly T1: number;
  /** Table 4: "The maximum retransmit interval for non-INVITE requests and INVITE responses", 4 s. */
  readonly T2: number;
  /** Table 4: "Maximum duration a message will remain in the network", 5 s. */
  readonly T4: number;
}

export const DEFAULT_TIMERS: TimerValues = Object.freeze({ T1: 500, T2: 4000, T4: 5000 });

const timerOverrides = z
  .object({
    T1: z.number().int().positive().max(60_000).optional(),
    T2: z.number().int().positive().max(600_000).optional(),
    T4: z.number().int().positive().max(600_000).optional(),
  })
  .strict();

/** Error raised when timer overrides are not usable. */
export class TimerConfigError extends Error {
  override name = 'TimerConfigError';
}

/**
 * The defaults with `overrides` applied, validated: integers in milliseconds, T1 ≤ T2 (the retransmit interval
 * starts at T1 and is capped at T2).
 */
export function resolveTimers(overrides: Partial<TimerValues> = {}): TimerValues {
  const parsed = timerOverrides.safeParse(overrides);
  if (!parsed.success) throw new TimerConfigError(`invalid SIP timer values: ${z.prettifyError(parsed.error)}`);
  const t: TimerValues = { ...DEFAULT_TIMERS, ...stripUndefined(parsed.data) };
  if (t.T1 > t.T2) throw new TimerConfigError(`invalid SIP timer values: T1 (${t.T1} ms) exceeds T2 (${t.T2} ms)`);
  return Object.freeze(t);
}

function stripUndefined(o: Partial<Record<keyof TimerValues, number | undefined>>): Partial<TimerValues> {
  const out: Partial<Record<keyof TimerValues, number>> = {};
  for (const k of ['T1', 'T2', 'T4'] as const) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Timers B, F, H, J (unreliable) and L: "64*T1". */
export function sixtyFourT1(t: TimerValues): number {
  return 64 * t.T1;
}

/**
 * §17.1.2.2: "the interval doubles until it hits T2 … 500 ms, 1 s, 2 s, 4 s, 4 s, 4 s, etc." (Timers E and G).
 */
export function nextRetransmitInterval(current: number, t: TimerValues): number {
  return Math.min(2 * current, t.T2);
}
