#!/usr/bin/env node
'use strict';
/**
 * Rewrites the key tables of docs/dialin-menu.md from the menu specs (src/ivr/dialin/menus.ts), through the
 * compiled dist/ (run `npm run build` first; `npm run docs:menus` does both).
 *
 * Usage: node scripts/make-menu-docs.js [--check]
 *   --check  write nothing; exit 1 when the doc's tables differ from the specs
 */
const fs = require('node:fs');
const path = require('node:path');

const DOC = path.resolve(__dirname, '..', 'docs', 'dialin-menu.md');
const check = process.argv.includes('--check');

let withMenuTables;
try {
  ({ withMenuTables } = require('../dist/ivr/dialin/menu-docs.js'));
} catch (err) {
  process.stderr.write(`make-menu-docs: cannot load dist/ivr/dialin/menu-docs.js (run npm run build): ${err.message}\n`);
  process.exit(1);
}

const current = fs.readFileSync(DOC, 'utf8');
const next = withMenuTables(current);
if (check) {
  if (next !== current) {
    process.stdout.write('docs/dialin-menu.md: the key tables differ from src/ivr/dialin/menus.ts; run npm run docs:menus\n');
    process.exit(1);
  }
  process.exit(0);
}
if (next !== current) fs.writeFileSync(DOC, next);
process.stdout.write(`make-menu-docs: docs/dialin-menu.md ${next === current ? 'up to date' : 'rewritten'}\n`);
