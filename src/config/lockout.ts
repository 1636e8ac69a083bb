import type { Config } from './schema.js';

/** The PIN lockout policy shared by the dial-in service and the web login, in the store's units (ms). */
export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export function lockoutPolicy(config: Pick<Config, 'lockout'>): LockoutPolicy {
  return {
    maxFailures: config.lockout.maxFailures,
    windowMs: Math.max(1, Math.round(config.lockout.windowSeconds * 1000)),
    lockMs: Math.round(config.lockout.lockSeconds * 1000),
  };
}
