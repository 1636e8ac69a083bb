#!/usr/bin/env node
'use strict';
/**
 * `npm test`: the whole suite in two jest runs — every file but the load test on two workers (the SIP/RTP tests
 * mostly wait on real-time audio), then the load test alone so nothing else competes with its 100 concurrent
 * calls — and one closing line for both: "tests: N passed, N failed, N skipped".
 * With arguments (`npm test -- test/sip`), runs jest once with them.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const jest = require.resolve('jest/bin/jest');
const args = process.argv.slice(2);
const summary = join(mkdtempSync(join(tmpdir(), 'repondeur-tests-')), 'summary.jsonl');
const env = { ...process.env, REPONDEUR_TEST_SUMMARY: summary };

const runs = args.length
  ? [args]
  : [
      ['--maxWorkers=2', '--testPathIgnorePatterns', '/test/load/'],
      ['--runInBand', 'test/load/'],
    ];

let status = 0;
for (const run of runs) {
  const r = spawnSync(process.execPath, [jest, ...run], { stdio: 'inherit', env });
  if (r.status !== 0) status = r.status ?? 1;
}

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(summary)) {
  for (const line of readFileSync(summary, 'utf8').split('\n').filter(Boolean)) {
    const s = JSON.parse(line);
    passed += s.passed;
    failed += s.failed;
    skipped += s.skipped;
  }
}
if (status !== 0 && failed === 0) failed = 1; // a run that crashed before reporting still fails the suite
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(status);
