/**
 * Load in CI (issue 7): 300 complete deposits, 100 at a time, against a real `repondeur serve` process, spread
 * over four mailboxes by four SIPp processes (each with its own -mp: NOTES.md). Every call must succeed and every
 * stored WAV must hold the three plays of g711a.pcap sample for sample — no missing frame, no silence inserted —
 * with nothing but silence around them. SIPp waits out the greeting with a fixed pause, so on a loaded machine the
 * server's beep may come after SIPp has begun the first play: those first frames were sent before the beep and are
 * rightly not recorded (what a caller says over the greeting is not kept), so the first play may be cut at its start;
 * the second and third must be whole (checkDeposit). No timing is asserted: the figures belong to `npm run bench`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp, type SippResult } from '../helpers/sipp.js';
import { checkDeposit, expectedFrames, storedMessages } from '../../bench/lib/recording-check.js';

const PCAP = '/usr/share/sip-tester/g711a.pcap';
const MAILBOXES = ['+33912345001', '+33912345002', '+33912345003', '+33912345004'];
const CALLS_PER_MAILBOX = 75;
const CONCURRENT_PER_MAILBOX = 25;
const PLAYS = 3;

let server: ServerProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repondeur-load-'));
  // Lines are provisioned before the server starts: it then opens a non-empty store and adds no demo line.
  const store = await openStore(`sqlite:${join(dir, 'repondeur.db')}`);
  try {
    for (const number of MAILBOXES) await store.lines.create({ number, routing: 'voicemail', pin: '1234', language: 'fr' });
  } finally {
    await store.close();
  }
  // The overload guards (event loop, late sends) are off here: this test judges recording integrity at 100 concurrent calls on
  // whatever machine runs it (a loaded CI box stalls the loop for reasons of its own); the guard's 503s are tested
  // in test/hostile/overload.test.ts and its unit tests. Media runs on the SIP thread (media.workers 0) unless the run
  // asks otherwise: every other server test runs with the default media workers, this one keeps the in-thread path
  // covered end to end at 100 concurrent calls.
  server = await startServerProcess(
    { REPONDEUR_LOG_LEVEL: 'info', REPONDEUR_RETENTION_MAX_MESSAGES: '1000', REPONDEUR_ADMISSION_MAX_EVENT_LOOP_DELAY_MS: '0', REPONDEUR_ADMISSION_MAX_LATE_SEND_SHARE: '0', REPONDEUR_MEDIA_WORKERS: process.env.REPONDEUR_MEDIA_WORKERS ?? '0' },
    { dir },
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('load: 100 concurrent deposits, 300 calls', () => {
  let results: SippResult[] = [];

  test('every call succeeds', async () => {
    results = await Promise.all(
      MAILBOXES.map((line) =>
        runSipp({
          scenario: 'load-deposit.xml',
          target: `127.0.0.1:${server.sipPort}`,
          service: `0${line.slice(3)}`,
          calls: CALLS_PER_MAILBOX,
          concurrency: CONCURRENT_PER_MAILBOX,
          rate: 5,
          timeoutMs: 200_000,
        }),
      ),
    );
    for (const r of results) if (r.code !== 0 || r.failed !== 0) throw new Error(describeSipp(r));
    expect(results.map((r) => [r.successful, r.failed])).toEqual(MAILBOXES.map(() => [CALLS_PER_MAILBOX, 0]));
    const serverErrors = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
    expect(serverErrors).toEqual([]);
  }, 240_000);

  test('every stored message holds the plays of g711a.pcap from the beep on, every frame, only silence around', () => {
    const frames = expectedFrames(PCAP, PLAYS);
    const messages = storedMessages(join(dir, 'repondeur.db'));
    const perLine = new Map<string, number>();
    for (const m of messages) perLine.set(m.line, (perLine.get(m.line) ?? 0) + 1);
    expect(Object.fromEntries(perLine)).toEqual(Object.fromEntries(MAILBOXES.map((l) => [l, CALLS_PER_MAILBOX])));

    const incomplete = messages
      .map((m) => ({ id: m.id, line: m.line, samples: m.samples.length, ...checkDeposit(m.samples, frames, PLAYS) }))
      .filter((c) => !c.complete);
    // On failure this lists which messages lost what, e.g. { missing: 3, gapSamples: 0, lateStartFrames: 0 }.
    expect(incomplete).toEqual([]);
    expect(messages.length).toBe(MAILBOXES.length * CALLS_PER_MAILBOX);
  });
});
