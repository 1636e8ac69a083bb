#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in dist/cli.js (built by `npm run build`).
require('../dist/cli.js').main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`repondeur: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
