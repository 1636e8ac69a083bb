/**
 * The PIN lockout policy of the dial-in service: the store's default (5 failures within 15 minutes lock the line
 * for 15 minutes, as for the web login) unless the configuration carries `voicemail.lockout`.
 */
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from '../../store/index.js';

/** The optional `voicemail.lockout` section, in seconds as the rest of the configuration. */
export const LockoutConfigSchema = z.strictObject({
  maxFailures: z.number().int().min(1, { error: 'voicemail.lockout.maxFailures must be ≥ 1' }).default(DEFAULT_LOCKOUT_POLICY.maxFailures),
  windowSeconds: z
    .number()
    .positive({ error: 'voicemail.lockout.windowSeconds must be > 0' })
    .default(DEFAULT_LOCKOUT_POLICY.windowMs / 1000),
  lockSeconds: z
    .number()
    .min(0, { error: 'voicemail.lockout.lockSeconds must be ≥ 0' })
    .default(DEFAULT_LOCKOUT_POLICY.lockMs / 1000),
});

/** Thrown when `voicemail.lockout` is present but malformed. */
export class LockoutConfigError extends Error {
  override readonly name = 'LockoutConfigError';
}

/** The lockout policy for dial-in PIN entry, from `config.voicemail.lockout` when present. */
export function dialInLockoutPolicy(config: Config): LockoutPolicy {
  const raw = (config.voicemail as Record<string, unknown>)['lockout'];
  if (raw === undefined) return { ...DEFAULT_LOCKOUT_POLICY };
  const parsed = LockoutConfigSchema.safeParse(raw);
  if (!parsed.success) throw new LockoutConfigError(`invalid voicemail.lockout: ${z.prettifyError(parsed.error)}`);
  return {
    maxFailures: parsed.data.maxFailures,
    windowMs: Math.max(1, Math.round(parsed.data.windowSeconds * 1000)),
    lockMs: Math.round(parsed.data.lockSeconds * 1000),
  };
}
