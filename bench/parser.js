'use strict';
/**
 * `npm run bench:parser`: µs per parseMessage() for an ordinary INVITE and for each adversarial 64 KB datagram
 * of bench/lib/adversarial-sip.js (issue 11). Runs the built parser (dist/); `--dist <dir>` points elsewhere.
 *
 *   node bench/parser.js [--dist dist] [--ms 1000]
 */
const { join, resolve } = require('node:path');
const { ADVERSARIAL_DATAGRAMS, ORDINARY_INVITE } = require('./lib/adversarial-sip.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const dist = resolve(opt('dist', join(__dirname, '..', 'dist')));
const budgetMs = Number(opt('ms', '1000'));

async function main() {
  const { parseMessage } = await import(join(dist, 'sip', 'parser.js'));
  const cases = [{ name: `ordinary INVITE (${ORDINARY_INVITE.length} B)`, bytes: ORDINARY_INVITE }, ...ADVERSARIAL_DATAGRAMS];
  const rows = [];
  for (const c of cases) {
    const once = () => {
      try {
        parseMessage(c.bytes);
        return 'parsed';
      } catch (e) {
        return e && e.status ? `${e.status}` : 'threw';
      }
    };
    const outcome = once(); // warm-up, and the outcome
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    do {
      once();
      n++;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    } while (elapsed < budgetMs);
    rows.push({ case: c.name, bytes: c.bytes.length, outcome, 'µs/parse': ((elapsed * 1000) / n).toFixed(1) });
  }
  console.table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
