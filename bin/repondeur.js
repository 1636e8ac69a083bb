#!/usr/bin/env node
'use strict';
// Spool writes, fsyncs and PIN hashing (scrypt) share libuv's thread pool; its default of 4 threads makes them
// queue behind each other under load (BENCHMARKS.md). Must be set before the pool is first used.
process.env.UV_THREADPOOL_SIZE ??= '16';
// Thin launcher: the CLI lives in dist/cli.js (built by `npm run build`).
require('../dist/cli.js').main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`repondeur: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
