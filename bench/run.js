'use strict';
/**
 * `npm run bench`: finds the engine's ceiling on this machine (issue 7).
 *
 *   node bench/run.js [--steps 100,200,400,600,800,1000,1200,1400] [--asterisk-steps 800,1000,1200]
 *                     [--setup-rates 100,200,300,400,600] [--probes 4] [--no-write] [--no-ceiling]
 *                     [--asterisk-mailboxes 1,100] [--ramp 10] [--no-rtp-capture] [--quick]
 *                     [--node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--workers N]
 *
 * `--steps none` / `--asterisk-steps none` / `--setup-rates none` skip a part; `--node-args` are given to the
 * server's node (profiling); `--workers N` runs the server with media.workers = N (RTP in N worker threads, 2 by
 * default as in config/default.json; 0 keeps it on the SIP thread). REPONDEUR_*, MALLOC_*, GLIBC_TUNABLES and LD_PRELOAD
 * of the bench's environment reach the server (e.g. REPONDEUR_MEDIA_WORKER_YOUNG_GENERATION_MB=0, or jemalloc through
 * LD_PRELOAD with MALLOC_CONF); the bench's own settings win.
 *
 * 1. Ceiling: a bare Node dgram echo (bench/lib/dgram-echo.js), packets/s in + out with < 0.1 % loss.
 * 2. Recording steps: for each concurrency N, a fresh server and N complete deposits (load-deposit.xml: greeting,
 *    three plays of g711a.pcap, '#') started over 10 s by ⌈N/250⌉ SIPp processes, each on its own mailbox and -mp;
 *    meanwhile `--probes` lanes of dial-in calls (bench/lib/dialin-probe.js) time DTMF → next prompt. Per step:
 *    failed calls, frames missing from the stored WAVs, prompt send lateness (GET /api/v1/metrics), CPU and RSS of
 *    the server (/proc). Stops at the first step with a failed call or > 0.1 % missing frames.
 * 3. Asterisk shape (bench/lib/asterisk-shape.js): the scenario of the Asterisk reference (g711a.pcap ×3 from the
 *    answer, then BYE), for each N once over 1 mailbox and once over 100; per row failed calls, messages stored,
 *    recordings that are not one contiguous suffix of the three plays, CPU/RSS, event-loop p99. Stops at the
 *    first row with a failed call, a lost message or an incomplete recording.
 *    Per row also: RTP packets sent per second by the server and those sent > 10 ms late, event-loop delay p50/p99
 *    (from /api/v1/metrics), CPU % and RSS per call, and for every call whether the caller heard the server's RTP
 *    with no gap over 100 ms (a capture on lo of what the server sends to SIPp's media ports,
 *    bench/lib/rtp-gap-capture.py; needs python3 and root, `--no-rtp-capture` to skip).
 * 4. Set-up rate: short calls (load-setup.xml) at rising -r until calls fail or the rate is not reached.
 * `--quick` (CI smoke run, < 1 min after the build, not part of npm test): one Asterisk-shaped row of 50 calls in
 * one mailbox started over 2 s, nothing else, nothing written; exits 1 when the row does not pass.
 * Results are printed and written into BENCHMARKS.md between the BENCH-RESULTS markers.
 */
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const { readFileSync, writeFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT, BenchServer, runSipp, procSample, startProcessSampler, resourceFigures, errorFigures, quantile, histogramQuantiles, sleep } = require('./lib/harness.js');
const { DialInProbe } = require('./lib/dialin-probe.js');
const { echoCeiling } = require('./lib/dgram-echo.js');
const { asteriskShapeStep, asteriskRowPassed, asteriskShapeReport } = require('./lib/asterisk-shape.js');
const { checkDeposit, expectedFrames, storedMessages } = require('./lib/recording-check.js');
/** load-deposit.xml plays g711a.pcap this many times (and load-deposit-asterisk-shape.xml too). */
const PLAYS = 3;

const PCAP = '/usr/share/sip-tester/g711a.pcap';
const SIP_PORT = 17160;
const API_PORT = 17180;
const PER_SIPP = 250;
const RAMP_S = 10;
const PROBE_LINE = '+33912340000';
/** Packets/s one recording call sends: 30 ms ptime. */
const PPS_PER_CALL = 1000 / 30;

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const list = (v) => (v === 'none' ? [] : v.split(',').map(Number));
/** `--quick`: the CI smoke run (one small Asterisk-shaped row); explicit options still win. */
const QUICK = process.argv.includes('--quick');
const STEPS = list(option('steps', QUICK ? 'none' : '100,200,400,600,800,1000,1200,1400'));
const SETUP_RATES = list(option('setup-rates', QUICK ? 'none' : '100,200,300,400,600'));
const ASTERISK_STEPS = list(option('asterisk-steps', QUICK ? '50' : '800,1000,1200'));
/** Each Asterisk-shape N is run over one mailbox, then spread over 100 (as in the reference). */
const ASTERISK_MAILBOXES = list(option('asterisk-mailboxes', QUICK ? '1' : '1,100'));
/** Seconds over which the Asterisk-shaped calls of a row are started. */
const ASTERISK_RAMP_S = Number(option('ramp', QUICK ? '2' : '10'));
const RTP_CAPTURE = !process.argv.includes('--no-rtp-capture');
const NODE_ARGS = option('node-args', '').split(' ').filter(Boolean);
/** `--guards`: keep the server's admission cap and overload guards (refused calls then count as failed). */
const GUARDS = process.argv.includes('--guards');
/** media.workers of the servers started (REPONDEUR_MEDIA_WORKERS). */
const MEDIA_WORKERS = Number(option('workers', '2'));
const CEILING = !QUICK && !process.argv.includes('--no-ceiling');
const PROBE_LANES = Number(option('probes', '4'));
const WRITE = !QUICK && !process.argv.includes('--no-write');

function machine() {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '?';
    }
  };
  return {
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${sh('sh', ['-c', '. /etc/os-release && echo $PRETTY_NAME'])}, Linux ${os.release()}`,
    node: process.version,
    sipp: sh('sh', ['-c', 'sipp -v </dev/null | grep -o "SIPp v[^ ]*"']),
    rmemMax: sh('cat', ['/proc/sys/net/core/rmem_max']),
    load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

/** Dial-in probe calls, `lanes` at a time, until `until()` says stop. */
async function probeLanes(lanes, until) {
  /** Per key kind: '#' after the line number, '#' after the PIN (includes the scrypt verification), menu key '1'. */
  const latencies = { afterLine: [], afterPin: [], afterMenuKey: [] };
  let failures = 0;
  const lane = async () => {
    while (!until()) {
      try {
        const r = await new DialInProbe({ target: { host: '127.0.0.1', port: SIP_PORT }, dialIn: '0033979947994', line: '0912340000', pin: '1234' }).run();
        for (const kind of Object.keys(latencies)) {
          if (r[kind] === null) failures++;
          else latencies[kind].push(r[kind]);
        }
      } catch {
        failures++;
        await sleep(500);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { latencies, failures };
}

async function recordingStep(n, frames) {
  const procs = Math.ceil(n / PER_SIPP);
  const lines = Array.from({ length: procs }, (_, i) => `+339123450${String(i + 10).padStart(2, '0')}`);
  const server = await BenchServer.start({ sipPort: SIP_PORT, apiPort: API_PORT, lines, probeLine: PROBE_LINE, nodeArgs: NODE_ARGS, mediaWorkers: MEDIA_WORKERS, admissionGuards: GUARDS });
  try {
    const sampler = startProcessSampler(server);
    const { base } = sampler;
    const m0 = await server.metrics();
    const per = Math.ceil(n / procs);
    const sipps = lines.map((line, i) =>
      runSipp({
        scenario: 'load-deposit.xml',
        target: `127.0.0.1:${SIP_PORT}`,
        service: `0${line.slice(3)}`,
        calls: per,
        concurrency: per,
        rate: Math.max(1, Math.ceil(per / RAMP_S)),
        localPort: 17200 + i,
        mediaPort: 46000 + i * 10,
        timeoutS: 180,
      }),
    );
    const started = performance.now();
    const probes = probeLanes(PROBE_LANES, () => !sampler.running);
    const results = await Promise.all(sipps);
    const peaks = await sampler.stop();
    const peakSockets = peaks.sockets;
    const wallS = (performance.now() - started) / 1000;
    const probe = await probes;
    const end = procSample(server.pid);
    const m1 = await server.metrics();
    const errors = server.errorLines();
    await server.stop();
    const calls = per * procs;
    const failed = results.reduce((a, r) => a + r.failed + Math.max(0, per - r.successful - r.failed), 0);
    const messages = storedMessages(server.db).filter((m) => m.line !== PROBE_LINE);
    let missing = (calls - messages.length) * frames.length;
    let incomplete = calls - messages.length;
    for (const m of messages) {
      const c = checkDeposit(m.samples, frames, PLAYS);
      missing += c.missing;
      if (!c.complete) incomplete++;
    }
    const pacing = histogramQuantiles(m0.pacing, m1.pacing);
    return {
      n,
      calls,
      failed,
      concurrent: Math.max(peakSockets - (PROBE_LANES > 0 ? PROBE_LANES : 0), results.reduce((a, r) => a + r.maxConcurrent, 0)),
      setupPerS: calls / RAMP_S,
      missingPct: (100 * missing) / (calls * frames.length),
      incomplete,
      recvPps: Math.round(calls * PPS_PER_CALL),
      sendP50: pacing.p50Ms,
      sendP99: pacing.p99Ms,
      // The target (DTMF → prompt p99 < 100 ms) is judged on the menu key; the '#' after the PIN includes the
      // deliberate scrypt cost of the PIN check and is reported apart.
      dtmfP50: quantile(probe.latencies.afterMenuKey, 0.5),
      dtmfP99: quantile(probe.latencies.afterMenuKey, 0.99),
      dtmfSamples: probe.latencies.afterMenuKey.length,
      dtmfLineP50: quantile(probe.latencies.afterLine, 0.5),
      dtmfLineP99: quantile(probe.latencies.afterLine, 0.99),
      dtmfPinP50: quantile(probe.latencies.afterPin, 0.5),
      dtmfPinP99: quantile(probe.latencies.afterPin, 0.99),
      probeFailures: probe.failures,
      ...resourceFigures(base, end, peaks, calls),
      loopP99: m1.eventLoopDelay.p99Ms,
      wallS,
      ...errorFigures(errors, results),
    };
  } finally {
    await server.stop();
    server.removeFiles();
  }
}

async function setupStep(rate) {
  const server = await BenchServer.start({ sipPort: SIP_PORT, apiPort: API_PORT, lines: [], probeLine: PROBE_LINE, nodeArgs: NODE_ARGS, mediaWorkers: MEDIA_WORKERS, admissionGuards: GUARDS });
  try {
    const calls = rate * 10;
    const base = procSample(server.pid);
    const r = await runSipp({
      scenario: 'load-setup.xml',
      target: `127.0.0.1:${SIP_PORT}`,
      service: '0912340000',
      calls,
      concurrency: rate * 4,
      rate,
      localPort: 17300,
      mediaPort: 47000,
      timeoutS: 120,
    });
    const end = procSample(server.pid);
    const achieved = r.successful / Math.max(1, r.elapsedS - 2);
    return { rate, calls, successful: r.successful, failed: r.failed + (calls - r.successful - r.failed), achieved, cpuMsPerCall: ((end.cpuSeconds - base.cpuSeconds) * 1000) / calls };
  } finally {
    await server.stop();
    server.removeFiles();
  }
}

const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : String(v));
const f0 = (v) => (Number.isFinite(v) ? v.toFixed(0) : String(v));

function report(m, echo, steps, lastGood, asterisk, setups) {
  const out = [];
  out.push(`Run: ${new Date().toISOString()} · ${m.cpu} · ${m.memory} · ${m.os} · Node ${m.node} · ${m.sipp} · net.core.rmem_max ${m.rmemMax} · load average at start ${m.load}`);
  out.push('');
  if (echo.best) out.push(`Ceiling (bare Node dgram echo, one process, 172-byte datagrams, < 0.1 % loss): **${f0(echo.best.inOutPps)} packets/s in + out** (highest rate tried: ${echo.runs.at(-1)?.pps} pps each way, loss ${f1(100 * (echo.runs.at(-1)?.loss ?? 0))} %).`);
  else out.push('Ceiling not measured in this run (--no-ceiling).');
  out.push('');
  if (steps.length > 0) {
    out.push('| concurrent deposits | failed calls | missing frames | incomplete WAVs | RTP in (pps) | prompt send lateness p50 / p99 (ms) | menu key → prompt p50 / p99 (ms, n) | line # → prompt p50 / p99 (ms) | PIN # → prompt p50 / p99 (ms, incl. scrypt) | server CPU ms / call | peak CPU % | RSS / call (KiB) | peak RSS (MiB) | event-loop p99 (ms) |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of steps) {
      out.push(
        `| ${s.concurrent} (${s.calls} calls, ${f0(s.setupPerS)}/s) | ${s.failed} | ${s.missingPct.toFixed(3)} % | ${s.incomplete} | ${s.recvPps} | ${s.sendP50} / ${Number.isFinite(s.sendP99) ? s.sendP99 : "≥ 50"} | ${f0(s.dtmfP50)} / ${f0(s.dtmfP99)} (${s.dtmfSamples}${s.probeFailures ? `, ${s.probeFailures} lost` : ''}) | ${f0(s.dtmfLineP50)} / ${f0(s.dtmfLineP99)} | ${f0(s.dtmfPinP50)} / ${f0(s.dtmfPinP99)} | ${f0(s.cpuMsPerCall)} | ${f0(s.peakCpuPct)} | ${f0(s.rssPerCallKb)} | ${f0(s.peakRssMb)} | ${f1(s.loopP99)} |`,
      );
    }
    out.push('');
    if (lastGood) {
      out.push(
        `Last good step: **${lastGood.concurrent} concurrent recording calls** (${lastGood.recvPps} RTP packets/s received${echo.best?.inOutPps ? ` = ${f1((100 * lastGood.recvPps) / echo.best.inOutPps)} % of the bare echo's in + out rate` : ''}).`,
      );
    } else out.push('No step passed.');
    const stop = steps.at(-1);
    if (stop && stop !== lastGood) out.push(`Stopped at ${stop.n}: ${stop.failed} failed calls, ${stop.missingPct.toFixed(3)} % missing frames${stop.firstError ? `; first server error: \`${stop.firstError}\`` : ''}.`);
    out.push('');
  }
  if (asterisk.length > 0) {
    out.push(asteriskShapeReport(asterisk));
    out.push('');
  }
  if (setups.length > 0) {
    out.push('| set-up rate asked (calls/s) | calls | failed | achieved (calls/s) | server CPU ms / call |');
    out.push('|---|---|---|---|---|');
    for (const s of setups) out.push(`| ${s.rate} | ${s.calls} | ${s.failed} | ${f0(s.achieved)} | ${f1(s.cpuMsPerCall)} |`);
  }
  return out.join('\n');
}

async function main() {
  for (const need of [join(ROOT, 'dist', 'server.js'), PCAP]) if (!existsSync(need)) throw new Error(`missing ${need} (npm run build; apt-get install sip-tester)`);
  const m = machine();
  console.log('machine', m, 'media.workers', MEDIA_WORKERS);
  const echo = CEILING ? await echoCeiling([10000, 20000, 40000, 60000, 80000, 100000, 120000]) : { best: null, runs: [] };
  console.log('echo ceiling', echo.best);
  const frames = expectedFrames(PCAP, PLAYS);
  const steps = [];
  let lastGood = null;
  for (const n of STEPS) {
    const s = await recordingStep(n, frames);
    steps.push(s);
    console.log(JSON.stringify(s));
    if (s.failed > 0 || s.missingPct > 0.1) break;
    lastGood = s;
  }
  const asterisk = [];
  series: for (const n of ASTERISK_STEPS) {
    for (const mailboxes of ASTERISK_MAILBOXES) {
      const r = await asteriskShapeStep({ n, mailboxes, frames, sipPort: SIP_PORT, apiPort: API_PORT, probeLine: PROBE_LINE, nodeArgs: NODE_ARGS, mediaWorkers: MEDIA_WORKERS, rampS: ASTERISK_RAMP_S, captureRtp: RTP_CAPTURE, admissionGuards: GUARDS });
      asterisk.push(r);
      console.log(JSON.stringify(r));
      if (!asteriskRowPassed(r)) break series;
    }
  }
  const setups = [];
  for (const rate of SETUP_RATES) {
    const s = await setupStep(rate);
    setups.push(s);
    console.log(JSON.stringify(s));
    if (s.failed > 0 || s.achieved < rate * 0.9) break;
  }
  const text = report(m, echo, steps, lastGood, asterisk, setups);
  console.log(`\n${text}`);
  if (QUICK && !(asterisk.length > 0 && asterisk.every(asteriskRowPassed))) process.exitCode = 1;
  if (WRITE) {
    const file = join(ROOT, 'BENCHMARKS.md');
    const begin = '<!-- BENCH-RESULTS:BEGIN -->';
    const endMark = '<!-- BENCH-RESULTS:END -->';
    const doc = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${begin}\n${endMark}\n`;
    const a = doc.indexOf(begin);
    const b = doc.indexOf(endMark);
    const next = a >= 0 && b > a ? `${doc.slice(0, a + begin.length)}\n${text}\n${doc.slice(b)}` : `${doc}\n${begin}\n${text}\n${endMark}\n`;
    writeFileSync(file, next);
    console.log(`\nwritten to ${file}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
