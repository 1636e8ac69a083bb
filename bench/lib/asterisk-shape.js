'use strict';
/**
 * The "Asterisk shape" series of `npm run bench`: the scenario of the Asterisk 20 app_voicemail reference
 * (NOTES.md: 800 concurrent 21 s deposits in one mailbox, ~900 over 100 mailboxes), so that our figure compares
 * with it directly.
 *
 * Per row: a fresh server, N calls of load-deposit-asterisk-shape.xml (INVITE → g711a.pcap three times from the
 * answer → BYE, no wait for the greeting) started over 10 s by ⌈N/250⌉ SIPp processes with distinct -p/-mp, the
 * calls going to 1 mailbox or spread over 100 (an injection file names the mailbox of each call). Every call
 * records ~21.2 s minus the greeting and beep; each stored WAV must be one contiguous suffix of the three plays
 * (checkRecordingTail).
 */
const { BenchServer, runSipp, procSample, startProcessSampler, resourceFigures, errorFigures, sleep, startRtpCapture, heardFigures, mediaFigures, HEARD_GAP_LIMIT_MS } = require('./harness.js');
const { checkRecordingTail, storedMessages } = require('./recording-check.js');

const SCENARIO = 'load-deposit-asterisk-shape.xml';
const PER_SIPP = 250;
const RAMP_S = 10;
/** SIPp process p sends from and receives on media port MEDIA_PORT_BASE + 10·p (the capture covers them all). */
const MEDIA_PORT_BASE = 48000;
/** Mailboxes of the series: +33912346000, +33912346001, … (apart from the recording steps' and the probe's). */
const mailboxNumber = (i) => `+339123460${String(i).padStart(2, '0')}`;
/** How long stored messages may keep arriving after the last SIPp exits (the store runs after the BYE). */
const SETTLE_TIMEOUT_MS = 60_000;

/** Messages stored so far on the given lines (read-only, beside the running server's WAL). */
function countMessages(dbPath, lines) {
  const Database = require('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const marks = lines.map(() => '?').join(',');
    return db.prepare(`SELECT count(*) AS n FROM messages WHERE line IN (${marks})`).get(...lines).n;
  } finally {
    db.close();
  }
}

/** Waits until `calls` messages are stored or the count has not moved for 5 s (or SETTLE_TIMEOUT_MS passed). */
async function settle(dbPath, lines, calls) {
  const started = performance.now();
  let last = -1;
  let lastChange = started;
  while (performance.now() - started < SETTLE_TIMEOUT_MS) {
    const n = countMessages(dbPath, lines);
    if (n >= calls) return;
    if (n !== last) {
      last = n;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 5000) return;
    await sleep(500);
  }
}

/**
 * One row: N concurrent Asterisk-shaped deposits over `mailboxes` mailboxes.
 * `rampS` (default 10) is how long the N calls take to start; `captureRtp` (default true) captures what the
 * callers receive (bench/lib/rtp-gap-capture.py) to tell whether each heard RTP without a gap over 100 ms.
 * @param {{ n: number, mailboxes: number, frames: Int16Array[], sipPort: number, apiPort: number, probeLine: string, nodeArgs: string[], mediaWorkers?: number, rampS?: number, captureRtp?: boolean, admissionGuards?: boolean }} o
 */
async function asteriskShapeStep(o) {
  const lines = Array.from({ length: o.mailboxes }, (_, i) => mailboxNumber(i));
  const procs = Math.ceil(o.n / PER_SIPP);
  const per = Math.ceil(o.n / procs);
  const calls = per * procs;
  const server = await BenchServer.start({ sipPort: o.sipPort, apiPort: o.apiPort, lines, probeLine: o.probeLine, nodeArgs: o.nodeArgs, mediaWorkers: o.mediaWorkers, admissionGuards: o.admissionGuards ?? false });
  let capture = null;
  try {
    const rampS = o.rampS ?? RAMP_S;
    capture = o.captureRtp === false ? null : await startRtpCapture(MEDIA_PORT_BASE, MEDIA_PORT_BASE + procs * 10);
    const m0 = await server.metrics();
    const sampler = startProcessSampler(server);
    const { base } = sampler;
    const sipps = Array.from({ length: procs }, (_, p) =>
      runSipp({
        scenario: SCENARIO,
        target: `127.0.0.1:${o.sipPort}`,
        service: `0${lines[0].slice(3)}`,
        // Call k of process p goes to mailbox (p·per + k) mod M: every mailbox gets its share from every process.
        injection: Array.from({ length: per }, (_, k) => [`0${lines[(p * per + k) % lines.length].slice(3)}`]),
        calls: per,
        concurrency: per,
        rate: Math.max(1, Math.ceil(per / rampS)),
        localPort: 17400 + p,
        mediaPort: MEDIA_PORT_BASE + p * 10,
        timeoutS: 120,
      }),
    );
    const results = await Promise.all(sipps);
    const peaks = await sampler.stop();
    const sippEnd = procSample(server.pid);
    const mSipp = await server.metrics();
    const captured = capture ? await capture.stop() : { available: false, why: 'not asked (--no-rtp-capture)' };
    const peakSockets = peaks.sockets;
    await settle(server.db, lines, calls);
    const end = procSample(server.pid);
    const m1 = await server.metrics();
    const errors = server.errorLines();
    await server.stop();
    const failed = results.reduce((a, r) => a + r.failed + Math.max(0, per - r.successful - r.failed), 0);
    const wanted = new Set(lines);
    const messages = storedMessages(server.db).filter((m) => wanted.has(m.line));
    let incomplete = 0;
    let missingInside = 0;
    let notAtEnd = 0;
    let keptFrames = 0;
    for (const m of messages) {
      const c = checkRecordingTail(m.samples, o.frames);
      if (!c.complete) incomplete++;
      if (!c.endsWithLastFrame) notAtEnd++;
      missingInside += c.missing;
      keptFrames += c.kept;
    }
    return {
      n: o.n,
      mailboxes: o.mailboxes,
      mailboxesUsed: new Set(messages.map((m) => m.line)).size,
      calls,
      concurrent: Math.max(peakSockets, results.reduce((a, r) => a + r.maxConcurrent, 0)),
      failed,
      stored: messages.length,
      incomplete,
      notEndingWithLastFrame: notAtEnd,
      missingInside,
      meanKeptS: messages.length ? (keptFrames * 0.03) / messages.length : NaN,
      ...resourceFigures(base, end, peaks, calls),
      // CPU % over the calls themselves (SIPp start → last SIPp exit), not the settling afterwards.
      callsCpuPct: (100 * (sippEnd.cpuSeconds - base.cpuSeconds)) / ((sippEnd.at - base.at) / 1000),
      // Event-loop delay from the server's start to the end of the calls (the settling after them excluded).
      ...mediaFigures(m0, mSipp, (sippEnd.at - base.at) / 1000, peaks),
      ...heardFigures(captured, calls),
      ...errorFigures(errors, results),
    };
  } finally {
    await capture?.stop();
    await server.stop();
    server.removeFiles();
  }
}

/**
 * A row passes with no failed call, every message stored, every stored recording complete, and (when the capture
 * ran) every caller having heard RTP with no gap over HEARD_GAP_LIMIT_MS.
 */
const asteriskRowPassed = (r) => r.failed === 0 && r.stored === r.calls && r.incomplete === 0 && (!r.heardMeasured || (r.heardGaps === 0 && r.heardNothing === 0));

/** "k / calls" of callers who heard RTP throughout, with the worst gap; "not measured (why)" without a capture. */
function heardCell(r) {
  if (!r.heardMeasured) return `not measured (${r.heardWhy ?? '?'})`;
  const bad = [r.heardGaps ? `${r.heardGaps} with a gap` : '', r.heardNothing ? `${r.heardNothing} heard nothing` : '', r.captureDrops ? `capture dropped ${r.captureDrops} packets` : ''].filter(Boolean);
  return `${r.heardClean} / ${r.calls}${bad.length ? ` (${bad.join(', ')})` : ''}, worst ${f0(r.heardMaxGapMs)}`;
}

const f0 = (v) => (Number.isFinite(v) ? v.toFixed(0) : String(v));
const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : String(v));

/** The series' Markdown table and its last-good lines. */
function asteriskShapeReport(rows) {
  const out = [];
  out.push('Asterisk shape (`load-deposit-asterisk-shape.xml`: g711a.pcap ×3 from the answer, then BYE; "complete" = the stored WAV is one contiguous suffix of the three plays ending with the last frame, only silence around):');
  out.push('');
  out.push(`| concurrent deposits | mailboxes (holding messages) | failed calls | messages stored / calls | incomplete recordings | missing frames inside kept part | kept audio per message (s, mean) | callers hearing RTP with no gap > ${HEARD_GAP_LIMIT_MS} ms (worst gap, ms) | RTP sent (pps, mean / peak) | sent > 10 ms late | event-loop delay p50 / p99 (ms) | server CPU ms / call | CPU % (calls / peak) | RSS / call (KiB) | peak RSS (MiB) |`);
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(
      `| ${r.concurrent} (${r.calls} calls) | ${r.mailboxes} (${r.mailboxesUsed}) | ${r.failed} | ${r.stored} / ${r.calls} | ${r.incomplete}${r.notEndingWithLastFrame ? ` (${r.notEndingWithLastFrame} not ending with the last frame)` : ''} | ${r.missingInside} | ${f1(r.meanKeptS)} | ${heardCell(r)} | ${f0(r.sentPps)} / ${f0(r.sentPeakPps)} | ${r.sentLate} (${r.sentLatePct.toFixed(2)} %) | ${f1(r.loopP50)} / ${f1(r.loopP99)} | ${f0(r.cpuMsPerCall)} | ${f0(r.callsCpuPct)} / ${f0(r.peakCpuPct)} | ${f0(r.rssPerCallKb)} | ${f0(r.peakRssMb)} |`,
    );
  }
  out.push('');
  for (const m of [...new Set(rows.map((r) => r.mailboxes))]) {
    const good = rows.filter((r) => r.mailboxes === m && asteriskRowPassed(r)).at(-1);
    out.push(`Last good row over ${m} mailbox${m > 1 ? 'es' : ''}: ${good ? `**${good.calls} concurrent deposits**` : 'none'}.`);
  }
  const stop = rows.at(-1);
  if (stop && !asteriskRowPassed(stop)) {
    out.push(
      `Stopped at ${stop.calls} over ${stop.mailboxes}: ${stop.failed} failed calls, ${stop.calls - stop.stored} messages not stored, ${stop.incomplete} incomplete${stop.heardMeasured ? `, ${stop.heardGaps} callers heard a gap > ${HEARD_GAP_LIMIT_MS} ms, ${stop.heardNothing} heard no RTP` : ''}${stop.firstError ? `; first server error: \`${stop.firstError}\`` : ''}.`,
    );
  }
  return out.join('\n');
}

module.exports = { asteriskShapeStep, asteriskRowPassed, asteriskShapeReport };
