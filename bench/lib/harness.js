'use strict';
/**
 * Bench plumbing: a fresh `repondeur serve` (built dist/) per step with its own store and mailboxes, SIPp runs,
 * /proc sampling of the server's CPU and RSS, and the operator metrics route.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..', '..');
const TOKEN = 'bench-operator-token';
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime+stime (s) and RSS (bytes) of a process, from /proc/<pid>/stat and /proc/<pid>/status. */
function procSample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" of comm: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(f[11]) + Number(f[12])) / CLK_TCK;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { at: performance.now(), cpuSeconds, rssBytes: rssKb * 1024 };
}

class BenchServer {
  /** @param {{ sipPort: number, apiPort: number, lines: string[], probeLine: string, logLevel?: string, nodeArgs?: string[], mediaWorkers?: number }} o */
  static async start(o) {
    const dir = mkdtempSync(join(tmpdir(), 'repondeur-bench-'));
    const db = join(dir, 'repondeur.db');
    const { openStore } = require(join(ROOT, 'dist', 'store', 'index.js'));
    const store = await openStore(`sqlite:${db}`);
    try {
      for (const number of [...o.lines, o.probeLine]) await store.lines.create({ number, routing: 'voicemail', pin: '1234', language: 'fr' });
    } finally {
      await store.close();
    }
    // MALLOC_* and MALLOC_CONF (allocator tuning: glibc, jemalloc), GLIBC_TUNABLES, LD_PRELOAD (another allocator) and REPONDEUR_* from
    // the bench's own environment reach the server, so that a setting can be tried on a row; the bench's own settings below win.
    const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k.startsWith('REPONDEUR_') || k === 'GLIBC_TUNABLES' || k === 'LD_PRELOAD'));
    const env = {
      ...passed,
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      REPONDEUR_SIP_PORT: String(o.sipPort),
      REPONDEUR_API_PORT: String(o.apiPort),
      REPONDEUR_API_OPERATOR_TOKEN: TOKEN,
      REPONDEUR_RTP_PORT_MIN: '20000',
      REPONDEUR_RTP_PORT_MAX: '29998',
      REPONDEUR_STORAGE_DIR: dir,
      REPONDEUR_DATABASE_URL: `sqlite:${db}`,
      REPONDEUR_LOG_LEVEL: o.logLevel ?? 'warn',
      REPONDEUR_RETENTION_MAX_MESSAGES: '100000',
      // The bench measures capacity: no cap on calls, no overload guard (they would refuse the rows beyond them),
      // unless asked to show them at work (`--guards`: the server's own admission defaults).
      ...(o.admissionGuards
        ? {}
        : { REPONDEUR_ADMISSION_MAX_CALLS: '100000', REPONDEUR_ADMISSION_MAX_EVENT_LOOP_DELAY_MS: '0', REPONDEUR_ADMISSION_MAX_LATE_SEND_SHARE: '0' }),
      // No count given: the server's own default (config/default.json), as `npm start` runs it.
      ...(o.mediaWorkers !== undefined ? { REPONDEUR_MEDIA_WORKERS: String(o.mediaWorkers) } : {}),
    };
    // As `npm start` runs it (package.json); `--node-args` come after, so a `--max-semi-space-size` there wins.
    const child = spawn(process.execPath, ['--max-semi-space-size=4', ...(o.nodeArgs ?? []), join(ROOT, 'bin', 'repondeur.js'), 'serve'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d) => {
      output += d.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const server = new BenchServer(child, dir, db, o.apiPort, () => output);
    for (let i = 0; i < 150; i++) {
      if (child.exitCode !== null) {
        server.removeFiles();
        throw new Error(`server exited ${child.exitCode}:\n${output.slice(-3000)}`);
      }
      if (await server.metrics().catch(() => null)) return server;
      await sleep(200);
    }
    await server.stop();
    server.removeFiles();
    throw new Error(`server not ready within 30 s:\n${output.slice(-3000)}`);
  }

  constructor(child, dir, db, apiPort, output) {
    this.child = child;
    this.pid = child.pid;
    this.dir = dir;
    this.db = db;
    this.apiPort = apiPort;
    this.output = output;
  }

  /** GET /api/v1/metrics as the operator. */
  async metrics() {
    const res = await fetch(`http://127.0.0.1:${this.apiPort}/api/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    if (!res.ok) throw new Error(`metrics: HTTP ${res.status}`);
    return res.json();
  }

  /** Error/fatal log lines the server printed (pino level ≥ 50). */
  errorLines() {
    return this.output()
      .split('\n')
      .filter((l) => /"level":(5|6)\d/.test(l));
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(t);
    }
  }

  removeFiles() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs SIPp to completion. Returns successful/failed call counts (from the -trace_stat CSV) and the maximum of
 * its CurrentCall column (sampled each second with -fd 1). `injection` (rows of fields) is written as a SEQUENTIAL
 * `-inf` file: call k takes row k mod rows.length, its fields as [field0], [field1]…
 */
function runSipp({ scenario, target, service, calls, concurrency, rate, localPort, mediaPort, timeoutS, rateIncrease, injection }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sipp-'));
  const stf = join(dir, 'stat.csv');
  const inf = join(dir, 'calls.csv');
  if (injection) writeFileSync(inf, `SEQUENTIAL\n${injection.map((fields) => `${fields.join(';')};`).join('\n')}\n`);
  const args = [
    target,
    '-sf', join(ROOT, 'sipp-scenarios', scenario),
    '-s', service,
    '-p', String(localPort),
    '-mp', String(mediaPort),
    '-i', '127.0.0.1',
    '-m', String(calls),
    '-l', String(concurrency),
    '-r', String(rate),
    '-timeout', `${timeoutS}s`,
    '-timeout_error',
    '-trace_err',
    '-trace_stat', '-stf', stf, '-fd', '1',
    '-buff_size', String(8 * 1024 * 1024),
    '-nostdin',
    ...(rateIncrease ? ['-rate_increase', String(rateIncrease)] : []),
    ...(injection ? ['-inf', inf] : []),
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      let successful = 0;
      let failed = 0;
      let maxConcurrent = 0;
      let elapsedS = 0;
      if (existsSync(stf)) {
        const rows = readFileSync(stf, 'utf8').trim().split('\n');
        const h = rows[0].split(';');
        const col = (name) => h.indexOf(name);
        for (const row of rows.slice(1)) {
          const c = row.split(';');
          maxConcurrent = Math.max(maxConcurrent, Number(c[col('CurrentCall')] ?? 0));
        }
        const last = rows[rows.length - 1].split(';');
        successful = Number(last[col('SuccessfulCall(C)')] ?? 0);
        failed = Number(last[col('FailedCall(C)')] ?? 0);
        const et = last[col('ElapsedTime(C)')] ?? '0:0:0';
        const [hh, mm, ss] = et.split(':').map(Number);
        elapsedS = hh * 3600 + mm * 60 + ss;
      }
      rmSync(dir, { recursive: true, force: true });
      resolvePromise({ code, successful, failed, maxConcurrent, elapsedS, stderr: stderr.slice(-2000) });
    });
  });
}

/** p-quantile of an unsorted array (nearest rank); NaN when empty. */
function quantile(values, q) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** p50/p99 from the difference of two cumulative pacing histograms (bucket 0 early, bucket i = [i−1, i) ms late). */
function histogramQuantiles(before, after) {
  const h = after.histogram.map((v, i) => v - (before?.histogram[i] ?? 0));
  const total = h.reduce((a, b) => a + b, 0);
  const q = (p) => {
    let acc = 0;
    for (let i = 0; i < h.length; i++) {
      acc += h[i];
      if (acc >= p * total && acc > 0) return i === h.length - 1 ? Infinity : i;
    }
    return 0;
  };
  return { frames: total, p50Ms: q(0.5), p99Ms: q(0.99), p999Ms: q(0.999) };
}

/**
 * Samples the server process every second until `stop()`: peak RSS, peak CPU (1 = one core), the peak number of
 * open UDP sockets and the peak RTP packets sent per second reported by its metrics route. `base` is the sample
 * taken at start.
 */
function startProcessSampler(server) {
  const base = procSample(server.pid);
  const peaks = { rssBytes: base.rssBytes, cpu: 0, sockets: 0, sentPps: 0 };
  let running = true;
  let prev = base;
  let prevSent = null;
  const loop = (async () => {
    while (running) {
      await sleep(1000);
      const s = procSample(server.pid);
      peaks.rssBytes = Math.max(peaks.rssBytes, s.rssBytes);
      peaks.cpu = Math.max(peaks.cpu, (s.cpuSeconds - prev.cpuSeconds) / ((s.at - prev.at) / 1000));
      prev = s;
      const m = await server.metrics().catch(() => null);
      if (m) {
        peaks.sockets = Math.max(peaks.sockets, m.openUdpSockets - 1);
        const sent = { at: performance.now(), n: m.rtp.sent };
        if (prevSent) peaks.sentPps = Math.max(peaks.sentPps, (sent.n - prevSent.n) / ((sent.at - prevSent.at) / 1000));
        prevSent = sent;
      }
    }
  })();
  return {
    base,
    get running() {
      return running;
    },
    async stop() {
      running = false;
      await loop;
      return peaks;
    },
  };
}

/** Per-call resource figures of a step: CPU time, peak and mean CPU (% of one core), RSS growth per call, peak RSS. */
function resourceFigures(base, end, peaks, calls) {
  return {
    cpuMsPerCall: ((end.cpuSeconds - base.cpuSeconds) * 1000) / calls,
    peakCpuPct: peaks.cpu * 100,
    meanCpuPct: (100 * (end.cpuSeconds - base.cpuSeconds)) / ((end.at - base.at) / 1000),
    rssPerCallKb: (peaks.rssBytes - base.rssBytes) / 1024 / calls,
    peakRssMb: peaks.rssBytes / 2 ** 20,
  };
}

/** What went wrong in a step, for its JSON line: server error logs and SIPp processes that failed. */
function errorFigures(serverErrors, sippResults) {
  return {
    serverErrors: serverErrors.length,
    firstError: serverErrors[0]?.slice(0, 300),
    sippErrors: sippResults.filter((r) => r.code !== 0).map((r) => r.stderr.slice(-300)),
  };
}

/**
 * What the callers hear: bench/lib/rtp-gap-capture.py captures on lo the UDP the server sends to SIPp's media
 * ports [portMin, portMax] (kernel timestamps) and reduces it to one record per call (server port → SIPp port):
 * packets and the largest inter-arrival gap. Needs python3 and root (a packet socket); when it cannot start, the
 * row reports the gaps as not measured (`available: false`).
 */
async function startRtpCapture(portMin, portMax) {
  const child = spawn('python3', [join(__dirname, 'rtp-gap-capture.py'), String(portMin), String(portMax)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d.toString()));
  const exited = new Promise((r) => child.once('close', r));
  const ready = await new Promise((r) => {
    child.stderr.on('data', (d) => {
      stderr += d.toString();
      if (stderr.includes('ready')) r(true);
    });
    child.once('error', () => r(false));
    child.once('exit', () => r(false));
    setTimeout(() => r(false), 10_000);
  });
  if (!ready) {
    child.kill('SIGKILL');
    await exited;
    return { available: false, why: stderr.trim().split('\n').at(-1) ?? 'did not start', stop: async () => ({ available: false, streams: [], kernelDrops: 0, packets: 0 }) };
  }
  let result = null;
  return {
    available: true,
    /** Stops the capture (idempotent) and returns its streams. */
    stop() {
      result ??= (async () => {
        child.kill('SIGTERM');
        await exited;
        try {
          return { available: true, ...JSON.parse(stdout) };
        } catch {
          return { available: false, why: `capture output unreadable: ${stderr.slice(-300)}`, streams: [], kernelDrops: 0, packets: 0 };
        }
      })();
      return result;
    },
  };
}

/** Largest inter-arrival gap the callers may hear before a call counts as having heard a gap. */
const HEARD_GAP_LIMIT_MS = 100;

/**
 * Per-row "caller heard RTP throughout" figures from a capture: calls whose stream never paused more than
 * HEARD_GAP_LIMIT_MS, calls with a longer gap, calls that got no RTP at all (calls − streams), the worst gap.
 */
function heardFigures(capture, calls) {
  if (!capture.available) return { heardMeasured: false, heardWhy: capture.why };
  const streams = capture.streams;
  const gaps = streams.map((s) => s.maxGapMs);
  return {
    heardMeasured: true,
    heardClean: streams.filter((s) => s.maxGapMs <= HEARD_GAP_LIMIT_MS).length,
    heardGaps: streams.filter((s) => s.maxGapMs > HEARD_GAP_LIMIT_MS).length,
    heardNothing: Math.max(0, calls - streams.length),
    heardMaxGapMs: gaps.length ? Math.max(...gaps) : NaN,
    heardP99GapMs: quantile(gaps, 0.99),
    // Where the longest gaps fall (ms after the call's first packet), to tell a pacing stall from a prompt change.
    heardWorstGaps: [...streams].sort((a, b) => b.maxGapMs - a.maxGapMs).slice(0, 5).map((s) => ({ gapMs: Math.round(s.maxGapMs), afterMs: Math.round(s.maxGapAfterMs), spanMs: Math.round((s.lastNs - s.firstNs) / 1e6), packets: s.packets })),
    captureDrops: capture.kernelDrops,
    capturedPackets: capture.packets,
  };
}

/**
 * Server-side media figures of a row from two /api/v1/metrics snapshots taken around it: RTP packets sent per
 * second (mean over `seconds`, and the sampler's per-second peak), packets sent more than the threshold late,
 * event-loop delay p50/p99 (the server's monitorEventLoopDelay since its start, 10 ms resolution included: an
 * idle loop reads ~10 ms).
 */
function mediaFigures(m0, m1, seconds, peaks) {
  const sent = m1.rtp.sent - m0.rtp.sent;
  const late = m1.rtp.sentLate - m0.rtp.sentLate;
  return {
    sentPps: sent / seconds,
    sentPeakPps: peaks.sentPps,
    sentLate: late,
    sentLatePct: sent > 0 ? (100 * late) / sent : 0,
    loopP50: m1.eventLoopDelay.p50Ms,
    loopP99: m1.eventLoopDelay.p99Ms,
  };
}

module.exports = { ROOT, startRtpCapture, heardFigures, mediaFigures, HEARD_GAP_LIMIT_MS, BenchServer, runSipp, procSample, startProcessSampler, resourceFigures, errorFigures, quantile, histogramQuantiles, sleep };
