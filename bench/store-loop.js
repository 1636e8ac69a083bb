'use strict';
/**
 * Event-loop delay while the store saves messages (issue 12): N messages of a 300 KB WAV inserted through
 * openStore on a fresh SQLite file, SQLite on the main thread (`?worker=0`) vs in its worker thread (default),
 * while a 10 ms timer measures how late the loop runs (perf_hooks monitorEventLoopDelay, plus the timer's own
 * lateness). Two ways of issuing the inserts:
 *   - back to back: `await` one after the other (a burst of hang-ups);
 *   - one per loop turn: a setImmediate between inserts, as hang-ups arriving among other events.
 * Usage: npm run bench:store [-- --messages 200 --kb 300 --quick]
 */
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { setImmediate: nextTurn } = require('node:timers/promises');
const { parseArgs } = require('node:util');

const ROOT = resolve(__dirname, '..');
const { openStore } = require(join(ROOT, 'dist', 'store', 'index.js'));

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '200' }, kb: { type: 'string', default: '300' }, quick: { type: 'boolean', default: false } },
});
const MESSAGES = values.quick ? 50 : Number(values.messages);
const WAV_BYTES = Number(values.kb) * 1024;
const TIMER_MS = 10;

/**
 * CPU seconds (user + system) of the main thread alone, from /proc/self/task/<pid>/stat (Linux): unlike wall-clock
 * figures it does not grow when other processes take the cores, and it leaves the worker thread's work out.
 */
function mainThreadCpuSeconds() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const waitForSamples = async (histogram, n) => {
  const target = histogram.count + n;
  while (histogram.count < target) await new Promise((r) => setTimeout(r, TIMER_MS));
};

/** A WAV-sized buffer of varied bytes (SQLite stores it as is; its content does not matter to the cost). */
function fakeWav(bytes, seed) {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  b.write('RIFF', 0, 'ascii');
  return b;
}

async function run(label, urlSuffix, perTurn) {
  const dir = mkdtempSync(join(tmpdir(), 'repondeur-bench-store-'));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}${urlSuffix}`);
  try {
    const line = '+33910000001';
    await store.lines.create({ number: line });
    const wavs = [fakeWav(WAV_BYTES, 1), fakeWav(WAV_BYTES, 2)];
    const histogram = monitorEventLoopDelay({ resolution: TIMER_MS });
    let last = performance.now();
    let worstTimerLateMs = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstTimerLateMs = Math.max(worstTimerLateMs, now - last - TIMER_MS);
      last = now;
      ticks++;
    }, TIMER_MS);
    histogram.enable();
    // The histogram's first sample only starts its clock (reset() restarts it too): a stall before it would go
    // unseen. The two idle samples taken here stay in the figures.
    await waitForSamples(histogram, 2);
    last = performance.now();
    const cpuStart = mainThreadCpuSeconds();
    const start = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      await store.messages.create({ line, caller: '+33612345678', callee: line, durationMs: 18_000, wav: wavs[i % 2] });
      if (perTurn) await nextTurn();
    }
    const seconds = (performance.now() - start) / 1000;
    const cpuSeconds = mainThreadCpuSeconds() - cpuStart;
    // A stall is recorded by the histogram's own timer once the loop turns again: wait for two more samples.
    await waitForSamples(histogram, 2);
    clearInterval(timer);
    histogram.disable();
    const ms = (ns) => (ns / 1e6).toFixed(1);
    return {
      run: label,
      'loop p50 ms': ms(histogram.percentile(50)),
      'loop p99 ms': ms(histogram.percentile(99)),
      'loop max ms': ms(histogram.max),
      'timer worst late ms': worstTimerLateMs.toFixed(1),
      'timer ticks': ticks,
      'inserts/s': (MESSAGES / seconds).toFixed(0),
      'main-thread CPU ms/insert': ((cpuSeconds * 1000) / MESSAGES).toFixed(2),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`${MESSAGES} messages of ${WAV_BYTES / 1024} KB; ${TIMER_MS} ms timer (its period is included in the loop delay: idle reads ~${TIMER_MS} ms)`);
  const rows = [];
  for (const perTurn of [false, true]) {
    const how = perTurn ? 'one per loop turn' : 'back to back';
    rows.push(await run(`in-thread, ${how}`, '?worker=0', perTurn));
    rows.push(await run(`worker, ${how}`, '', perTurn));
  }
  console.table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
