/**
 * Property-based fuzzing in CI: a bounded, deterministic run (seed and count fixed, or FUZZ_SEED / FUZZ_RUNS) of
 * every target in ./targets.ts. A failure prints the seed, the path and the shrunk counterexample: replay it with
 * `npm run fuzz -- --seed <seed> --target "<name>"`. The long run with figures is `npm run fuzz` (scripts/fuzz.js).
 */
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import { TARGETS, UPLOAD_TARGETS, type FuzzTarget } from './targets.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function accepts(t: FuzzTarget<unknown>, err: unknown): boolean {
  return t.ours(err);
}

describe('fuzz (fast-check)', () => {
  test.each(TARGETS.map((t) => [t.name, t] as const))('%s', (_name, t) => {
    fc.assert(
      fc.property(t.arbitrary, (input) => {
        try {
          t.run(input);
        } catch (err) {
          if (!accepts(t, err)) throw err;
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test.each(UPLOAD_TARGETS.map((t) => [t.name, t] as const))('%s', async (_name, t) => {
    await fc.assert(
      fc.asyncProperty(t.arbitrary, async (input) => {
        try {
          await t.run(input);
        } catch (err) {
          if (!accepts(t, err)) throw err;
        }
      }),
      { seed: SEED, numRuns: Math.max(20, Math.floor(RUNS / 5)), timeout: 10000 },
    );
  }, 120000);
});
