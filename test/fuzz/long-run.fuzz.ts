/**
 * The long fuzz run behind `npm run fuzz` (scripts/fuzz.js sets FUZZ_RUNS, FUZZ_SEED, FUZZ_TARGET, FUZZ_HANG_MS).
 * Unlike the CI property test it does not stop at the first failure: every input of every target is run, and it
 * prints how many inputs ran, each distinct crash (anything thrown that is not one of our typed errors, or a broken
 * property) with its input and stack, and each hang (an input slower than FUZZ_HANG_MS; an async one is abandoned
 * after it). Matched by scripts/fuzz.js only (not *.test.ts), so `npm test` never runs it.
 */
import { test } from '@jest/globals';
import fc from 'fast-check';
import { ALL_TARGETS, UPLOAD_TARGETS, type FuzzTarget } from './targets.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 20000);
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 2000);
const ONLY = process.env.FUZZ_TARGET;
const BATCH = 500;

interface Finding {
  target: string;
  kind: 'crash' | 'hang';
  message: string;
  stack?: string;
  input: string;
  ms: number;
}

const HUNG = Symbol('hung');

async function runOne(t: FuzzTarget<unknown>, input: unknown): Promise<{ error?: unknown; hung: boolean; ms: number }> {
  const start = performance.now();
  let error: unknown;
  let hung = false;
  try {
    const r = t.run(input);
    if (r instanceof Promise) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([r.then(() => undefined), new Promise<typeof HUNG>((res) => (timer = setTimeout(() => res(HUNG), HANG_MS)))]);
      clearTimeout(timer);
      if (outcome === HUNG) hung = true;
    }
  } catch (err) {
    error = err;
  }
  const ms = performance.now() - start;
  return { error, hung: hung || ms > HANG_MS, ms };
}

test('long fuzz run', async () => {
  const findings: Finding[] = [];
  const seenCrash = new Set<string>();
  const perTarget: Array<{ target: string; inputs: number; ours: number; crashes: number; hangs: number; ms: number }> = [];
  const started = Date.now();
  for (const t of ALL_TARGETS) {
    if (ONLY && !t.name.includes(ONLY)) continue;
    const runs = UPLOAD_TARGETS.includes(t) ? Math.ceil(RUNS / 20) : RUNS;
    const row = { target: t.name, inputs: 0, ours: 0, crashes: 0, hangs: 0, ms: 0 };
    const t0 = Date.now();
    for (let batch = 0; row.inputs < runs; batch++) {
      const inputs = fc.sample(t.arbitrary, { seed: (SEED + batch * 7919) | 0, numRuns: Math.min(BATCH, runs - row.inputs) });
      for (const input of inputs) {
        row.inputs++;
        const { error, hung, ms } = await runOne(t, input);
        if (hung) {
          row.hangs++;
          findings.push({ target: t.name, kind: 'hang', message: `took ${ms.toFixed(0)} ms`, input: fc.stringify(input).slice(0, 2000), ms });
        }
        if (error === undefined) continue;
        if (t.ours(error)) {
          row.ours++;
          continue;
        }
        row.crashes++;
        const e = error as Error;
        const key = `${t.name}|${e?.name}|${e?.message}|${e?.stack?.split('\n')[1] ?? ''}`;
        if (seenCrash.has(key)) continue;
        seenCrash.add(key);
        findings.push({ target: t.name, kind: 'crash', message: `${e?.name}: ${e?.message}`, stack: e?.stack?.split('\n').slice(0, 8).join('\n'), input: fc.stringify(input).slice(0, 2000), ms });
      }
    }
    row.ms = Date.now() - t0;
    perTarget.push(row);
    process.stdout.write(`[fuzz] ${t.name}: ${row.inputs} inputs, ${row.ours} typed rejections, ${row.crashes} crashes, ${row.hangs} hangs (${row.ms} ms)\n`);
  }
  const totals = perTarget.reduce((a, r) => ({ inputs: a.inputs + r.inputs, crashes: a.crashes + r.crashes, hangs: a.hangs + r.hangs }), { inputs: 0, crashes: 0, hangs: 0 });
  for (const f of findings) {
    process.stdout.write(`\n[fuzz] ${f.kind.toUpperCase()} in "${f.target}": ${f.message}\n  input: ${f.input}\n${f.stack ? `  stack:\n${f.stack}\n` : ''}`);
  }
  process.stdout.write(`\n[fuzz] seed ${SEED}, ${totals.inputs} inputs, ${totals.crashes} crashes (${seenCrash.size} distinct), ${totals.hangs} hangs, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`[fuzz-summary] ${JSON.stringify({ seed: SEED, ...totals, distinctCrashes: seenCrash.size, perTarget })}\n`);
  if (totals.crashes > 0 || totals.hangs > 0) throw new Error(`fuzzing found ${totals.crashes} crashes and ${totals.hangs} hangs (seed ${SEED})`);
}, 24 * 3600 * 1000);
