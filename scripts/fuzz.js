#!/usr/bin/env node
/**
 * `npm run fuzz [-- --runs N] [--seed S] [--target substring] [--hang-ms MS]`: the long fuzz run of test/fuzz/targets.ts
 * (through jest and ts-jest, like the rest of the tests). Environment FUZZ_RUNS / FUZZ_SEED / FUZZ_TARGET /
 * FUZZ_HANG_MS work too. Prints every crash and hang with its input, then the figures; exits 1 when any was found.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const env = { ...process.env };
env.FUZZ_RUNS = opt('runs') ?? env.FUZZ_RUNS ?? '20000';
env.FUZZ_SEED = opt('seed') ?? env.FUZZ_SEED ?? String(Date.now() % 2 ** 31);
if (opt('target') ?? env.FUZZ_TARGET) env.FUZZ_TARGET = opt('target') ?? env.FUZZ_TARGET;
env.FUZZ_HANG_MS = opt('hang-ms') ?? env.FUZZ_HANG_MS ?? '2000';
process.stdout.write(`fuzz: ${env.FUZZ_RUNS} inputs per target, seed ${env.FUZZ_SEED}${env.FUZZ_TARGET ? `, targets matching "${env.FUZZ_TARGET}"` : ''}\n`);
const root = join(__dirname, '..');
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const r = spawnSync(process.execPath, [jest, '--runInBand', '--testMatch', '**/test/fuzz/*.fuzz.ts', '--testTimeout', String(24 * 3600 * 1000)], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
