'use strict';
/**
 * `npm run bench:parser` (issue 11 "hostile input"): what a ~64 KB datagram costs, ordinary vs adversarial.
 *
 * 1. In-process: each datagram of bench/lib/adversarial-sip.js through what the server does before answering
 *    (parseMessage, and for an INVITE sdpOf + answerOffer: bench/lib/sip-cost.js), timed one call at a time,
 *    all kinds interleaved round-robin so that machine load hits them alike: p50 / p99 / max µs and p50 µs per KB.
 * 2. Over real UDP against a running `dist/` server (skip with --no-udp): per kind, (a) the time until the
 *    server has answered or dropped one datagram (a small OPTIONS sent right after it from the same socket is
 *    answered only once the datagram is dealt with), (b) a burst of N datagrams while a second socket sends an
 *    OPTIONS every 5 ms: the server's CPU per datagram (/proc) and the OPTIONS answer latency during the burst.
 *
 *   node bench/parser.js [--dist dist] [--ms 8000] [--burst 100] [--no-udp] [--only <regexp of datagram names>] [--root <tree>]
 *     [--compare <other dist>]   (in-process only: times another build in the same rounds, e.g. an older commit)
 */
const { spawn } = require('node:child_process');
const dgram = require('node:dgram');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir, loadavg } = require('node:os');
const { join, resolve } = require('node:path');
const { ADVERSARIAL_DATAGRAMS, ORDINARY_DATAGRAMS, ORDINARY_INVITE } = require('./lib/adversarial-sip.js');
const { loadCost } = require('./lib/sip-cost.js');

const ROOT = join(__dirname, '..');
/** The tree whose bin/repondeur.js the UDP part starts (`--root`, e.g. an older commit built elsewhere). */
const SERVER_ROOT = resolve(process.argv.includes('--root') ? process.argv[process.argv.indexOf('--root') + 1] : ROOT);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const dist = resolve(opt('dist', join(ROOT, 'dist')));
const budgetMs = Number(opt('ms', '8000'));
const burst = Number(opt('burst', '100'));

const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const KB = (n) => n / 1024;

function allCases() {
  const only = opt('only', '');
  return [
    { name: `ordinary small INVITE (${ORDINARY_INVITE.length} B)`, bytes: ORDINARY_INVITE, kind: 'ordinary' },
    ...ORDINARY_DATAGRAMS.map((d) => ({ ...d, kind: 'ordinary' })),
    ...ADVERSARIAL_DATAGRAMS.map((d) => ({ ...d, kind: 'adversarial' })),
  ].filter((c) => only === '' || new RegExp(only).test(c.name));
}

/** `--compare <dist>`: another build (e.g. an older commit), timed in the same rounds so load hits both alike. */
const compareDist = opt('compare', '');

async function inProcess(cases) {
  const costs = [await loadCost(dist), ...(compareDist ? [await loadCost(resolve(compareDist))] : [])];
  const samples = costs.map(() => cases.map(() => []));
  const outcomes = costs.map((cost) => cases.map((c) => cost(c.bytes)));
  for (let w = 0; w < 20; w++) for (const cost of costs) for (const c of cases) cost(c.bytes);
  const start = Date.now();
  let rounds = 0;
  while (Date.now() - start < budgetMs || rounds < 50) {
    for (let k = 0; k < costs.length; k++) {
      for (let i = 0; i < cases.length; i++) {
        const t0 = process.hrtime.bigint();
        costs[k](cases[i].bytes);
        samples[k][i].push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
    rounds++;
  }
  return cases.map((c, i) => {
    const s = samples[0][i].sort((a, b) => a - b);
    const row = { ...c, outcome: outcomes[0][i], p50: q(s, 0.5), p99: q(s, 0.99), max: s[s.length - 1], perKb: q(s, 0.5) / KB(c.bytes.length), n: s.length };
    if (costs.length > 1) {
      const o = samples[1][i].sort((a, b) => a - b);
      row.compare = { outcome: outcomes[1][i], p50: q(o, 0.5), p99: q(o, 0.99), max: o[o.length - 1] };
    }
    return row;
  });
}

function printInProcess(rows) {
  console.log(`\n1. In-process cost (parse + SDP/multipart reading), ${rows[0].n} interleaved runs each, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.table(rows.map((r) => ({
    kind: r.kind,
    datagram: r.name.slice(0, 62),
    bytes: r.bytes.length,
    outcome: r.outcome.slice(0, 34),
    'p50 µs': +r.p50.toFixed(1),
    'p99 µs': +r.p99.toFixed(1),
    'max µs': +r.max.toFixed(1),
    'p50 µs/KB': +r.perKb.toFixed(2),
    ...(r.compare ? { 'compare: outcome': r.compare.outcome.slice(0, 30), 'compare p50 µs': +r.compare.p50.toFixed(1), 'compare max µs': +r.compare.max.toFixed(1) } : {}),
  })));
  const big = rows.filter((r) => r.bytes.length > 50_000);
  const ord = big.filter((r) => r.kind === 'ordinary');
  const adv = big.filter((r) => r.kind === 'adversarial');
  const worst = (list, key) => list.reduce((a, b) => (b[key] > a[key] ? b : a));
  const wo = worst(ord, 'p50');
  const wa = worst(adv, 'p50');
  console.log(`ordinary 64 KB, costliest: ${wo.name}: p50 ${wo.p50.toFixed(0)} µs (${wo.perKb.toFixed(2)} µs/KB), p99 ${wo.p99.toFixed(0)} µs`);
  console.log(`adversarial 64 KB, costliest: ${wa.name}: p50 ${wa.p50.toFixed(0)} µs (${wa.perKb.toFixed(2)} µs/KB), p99 ${wa.p99.toFixed(0)} µs`);
  console.log(`adversarial / ordinary (costliest p50): ${(wa.p50 / wo.p50).toFixed(2)}`);
}

// ---- over UDP against a running server ----------------------------------------------------------------------

function startServer(dir) {
  const child = spawn(process.execPath, [join(SERVER_ROOT, 'bin', 'repondeur.js'), 'serve'], {
    cwd: SERVER_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REPONDEUR_SIP_PORT: '0',
      REPONDEUR_API_PORT: '0',
      REPONDEUR_STORAGE_DIR: dir,
      REPONDEUR_DATABASE_URL: `sqlite:${join(dir, 'repondeur.db')}`,
      REPONDEUR_LOG_LEVEL: 'info',
      REPONDEUR_SIP_TRANSPORTS: 'udp',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveStart, reject) => {
    let buf = '';
    child.stdout.on('data', function onData(d) {
      buf += d.toString();
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
        let log;
        try {
          log = JSON.parse(buf.slice(0, i));
        } catch {
          continue;
        }
        if (log.msg === 'repondeur listening') {
          // From here on the logs are only drained, not parsed: parsing them would load this process, which
          // also times the OPTIONS probes.
          child.stdout.off('data', onData);
          child.stdout.resume();
          resolveStart({ child, sipPort: Number(/:(\d+)$/.exec(String(log.sip))[1]) });
          return;
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** utime + stime of a process, in µs. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** A UDP client that stamps each datagram with a fresh branch and Call-ID and collects answers by Call-ID. */
async function sipClient(sipPort) {
  const socket = dgram.createSocket('udp4');
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  const port = socket.address().port;
  const waiters = new Map();
  const statuses = new Map();
  let seq = 0;
  socket.on('message', (msg) => {
    const text = msg.toString('latin1', 0, Math.min(msg.length, 4096));
    // Answers are matched on the branch of their top Via (ours, copied back): Call-ID is one of the hostile parts.
    const id = /branch=z9hG4bK(?:adv)?([A-Za-z0-9]+)/.exec(text)?.[1];
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);
    if (!id || !status) return;
    if (status >= 200 && /\r\nCSeq:\s*\d+ INVITE/i.test(text)) socket.send(ackFor(text), sipPort, '127.0.0.1');
    if (status >= 200 || !statuses.has(id)) statuses.set(id, status);
    const w = waiters.get(id);
    if (w && status >= 200) {
      waiters.delete(id);
      w(status);
    }
  });
  const fresh = () => String(++seq % 1e8).padStart(8, '0') + '';
  return {
    port,
    statuses,
    /** A copy of `bytes` with a new 8-digit id in its branch and Call-ID markers; returns [copy, Call-ID]. */
    stamp(bytes, offsets) {
      const id = fresh();
      const copy = Buffer.from(bytes);
      for (const at of offsets) copy.write(id, at, 'latin1');
      return [copy, id];
    },
    send(buf) {
      return new Promise((r) => socket.send(buf, sipPort, '127.0.0.1', r));
    },
    options() {
      const id = `opt${fresh()}`;
      const text = `OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK${id}\r\n`
        + `Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=1\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      return { id, buf: Buffer.from(text) };
    },
    answered(id, timeoutMs = 5000) {
      return new Promise((r) => {
        const t = setTimeout(() => (waiters.delete(id), r(0)), timeoutMs);
        waiters.set(id, (s) => (clearTimeout(t), r(s)));
      });
    },
    close() {
      socket.close();
    },
  };
}

function ackFor(response) {
  const h = (name) => new RegExp(`\\r\\n${name}:\\s*([^\\r]+)`, 'i').exec(response)?.[1] ?? '';
  const seq = /^(\d+)/.exec(h('CSeq'))?.[1] ?? '1';
  return `ACK sip:+33900000000@127.0.0.1 SIP/2.0\r\nVia: ${h('Via')}\r\nMax-Forwards: 70\r\nFrom: ${h('From')}\r\nTo: ${h('To')}\r\n`
    + `Call-ID: ${h('Call-ID')}\r\nCSeq: ${seq} ACK\r\nContent-Length: 0\r\n\r\n`;
}

/** Where the branch and Call-ID markers' 8 digits are in `bytes`. */
function markerOffsets(bytes) {
  const out = [];
  for (const marker of ['z9hG4bKadv', 'adv0']) {
    for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) {
      const digitsAt = at + (marker === 'adv0' ? 3 : marker.length);
      if (/^\d{8}/.test(bytes.toString('latin1', digitsAt, digitsAt + 8)) && !out.includes(digitsAt)) out.push(digitsAt);
    }
  }
  return out;
}

async function overUdp(cases) {
  const dir = mkdtempSync(join(tmpdir(), 'repondeur-bench-parser-'));
  const server = await startServer(dir);
  const rows = [];
  try {
    const client = await sipClient(server.sipPort);
    const probe = await sipClient(server.sipPort);
    // Idle reference: OPTIONS answer latency with nothing else going on.
    const idle = [];
    for (let i = 0; i < 50; i++) {
      const o = probe.options();
      const t0 = process.hrtime.bigint();
      const done = probe.answered(o.id);
      await probe.send(o.buf);
      await done;
      idle.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    idle.sort((a, b) => a - b);
    console.log(`\n2. Over UDP, server dist/ on 127.0.0.1:${server.sipPort} (admission: loopback is a trusted source, so nothing is rate-limited)`);
    console.log(`idle OPTIONS round trip p50 ${q(idle, 0.5).toFixed(2)} ms, max ${idle[idle.length - 1].toFixed(2)} ms`);
    for (const c of cases) {
      const offsets = markerOffsets(c.bytes);
      // (a) one at a time: datagram, then an OPTIONS from the same socket; the OPTIONS answer says "dealt with".
      const handled = [];
      let status = 0;
      for (let i = 0; i < 20; i++) {
        const [dg, callId] = client.stamp(c.bytes, offsets);
        const o = client.options();
        const done = client.answered(o.id);
        const t0 = process.hrtime.bigint();
        await client.send(dg);
        await client.send(o.buf);
        await done;
        handled.push(Number(process.hrtime.bigint() - t0) / 1e6);
        await new Promise((r) => setTimeout(r, 2));
        status = client.statuses.get(callId) ?? status;
      }
      handled.sort((a, b) => a - b);
      // (b) a burst, while the probe socket sends an OPTIONS every 5 ms.
      const rtts = [];
      const pending = new Map();
      const timer = setInterval(() => {
        const o = probe.options();
        const t0 = process.hrtime.bigint();
        pending.set(o.id, t0);
        probe.answered(o.id).then(() => {
          pending.delete(o.id);
          rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
        });
        probe.send(o.buf);
      }, 5);
      await new Promise((r) => setTimeout(r, 20));
      const cpu0 = cpuMicros(server.child.pid);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < burst; i++) await client.send(client.stamp(c.bytes, offsets)[0]);
      const last = client.options();
      const lastDone = client.answered(last.id, 20000);
      await client.send(last.buf);
      await lastDone;
      const burstMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = cpuMicros(server.child.pid) - cpu0;
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 30));
      const now = process.hrtime.bigint();
      for (const t of pending.values()) rtts.push(Number(now - t) / 1e6);
      rtts.sort((a, b) => a - b);
      rows.push({
        kind: c.kind,
        datagram: c.name.slice(0, 50),
        answer: status || 'dropped',
        'handled p50 ms': +q(handled, 0.5).toFixed(2),
        'handled max ms': +handled[handled.length - 1].toFixed(2),
        'burst CPU µs/dgram': Math.round(cpu / burst),
        'burst ms': Math.round(burstMs),
        'OPTIONS max ms': +(rtts[rtts.length - 1] ?? 0).toFixed(1),
        'OPTIONS p99 ms': +(q(rtts, 0.99) ?? 0).toFixed(1),
      });
      await new Promise((r) => setTimeout(r, 50));
    }
    client.close();
    probe.close();
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
  const big = rows.filter((r, i) => cases[i].bytes.length > 50_000);
  for (const kind of ['ordinary', 'adversarial']) {
    const list = big.filter((r) => r.kind === kind);
    const m = (k) => Math.max(...list.map((r) => r[k]));
    console.log(`${kind} 64 KB, worst: handled max ${m('handled max ms')} ms, burst CPU ${m('burst CPU µs/dgram')} µs/datagram, OPTIONS max ${m('OPTIONS max ms')} ms`);
  }
}

async function main() {
  const cases = allCases();
  printInProcess(await inProcess(cases));
  if (!args.includes('--no-udp')) await overUdp(cases);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
