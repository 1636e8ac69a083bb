/**
 * No message lost on a full spool disk: `storage.dir` is a 64 KiB tmpfs (mounted here, the tests run as root), the
 * store's database is elsewhere. A 7 s deposit (113 KB of samples) fills the spool mid-recording (ENOSPC); the
 * message must still be stored whole, exactly the samples SIPp sent, with a warning in the log.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav } from '../../src/shared/audio/wav.js';
import { openStore } from '../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { demoGreetingWaitMs } from '../helpers/greeting-wait.js';
import { describeSipp, runSipp, scenarioPath } from '../helpers/sipp.js';
import { findExactly, pcapAudio, readPcap } from '../ivr/deposit/audio.js';

const DEMO = '+33912345678';
const PCAP = '/usr/share/sip-tester/g711a.pcap';
const work = mkdtempSync(join(tmpdir(), 'ops-disk-full-'));
const spoolDisk = join(work, 'spool');
let mounted = false;
let proc: ServerProcess | undefined;
let greetingWaitMs = 0;

beforeAll(async () => {
  execFileSync('mkdir', ['-p', spoolDisk]);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', spoolDisk], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    throw new Error(`this test needs root to mount a 64 KiB tmpfs as the spool disk: ${(err as Error).message}`);
  }
  greetingWaitMs = await demoGreetingWaitMs();
});

afterAll(async () => {
  await proc?.stop();
  if (mounted) execFileSync('umount', [spoolDisk]);
  rmSync(work, { recursive: true, force: true });
});

test('ENOSPC on the spool while recording: the message is stored whole from memory, with a warning', async () => {
  proc = await startServerProcess({ REPONDEUR_STORAGE_DIR: spoolDisk, REPONDEUR_DATABASE_URL: `sqlite:${join(work, 'repondeur.db')}` }, { dir: spoolDisk });
  const server = proc;
  const declared = /<Global variables="([^"]*)"/.exec(readFileSync(scenarioPath('deposit-pcap-hangup.xml'), 'utf8'))?.[1]?.split(',') ?? [];
  const values: Record<string, number> = { greeting_ms: greetingWaitMs, audio_ms: 7400 };
  const r = await runSipp({
    scenario: 'deposit-pcap-hangup.xml',
    target: `127.0.0.1:${server.sipPort}`,
    files: { 'audio.pcap': PCAP },
    timeoutMs: 60000,
    extra: declared.flatMap((name) => ['-set', name, String(values[name])]),
  });
  if (r.code !== 0) throw new Error(describeSipp(r));
  const warn = await server.waitForLog((l) => l.msg === 'recording: spool write failed; the message is stored from memory (no crash recovery for it)');
  expect(warn).toMatchObject({ level: 40, code: 'ENOSPC' });
  const stored = await server.waitForLog((l) => l.msg === 'deposit: message stored');
  expect(server.logs.some((l) => l.msg === 'call failed')).toBe(false);

  const store = await openStore(`sqlite:${join(work, 'repondeur.db')}`);
  try {
    const samples = decodeWav(await store.messages.getAudio(String(stored.messageId))).samples;
    expect(findExactly(samples, pcapAudio(readPcap(PCAP)))).toBeGreaterThanOrEqual(0);
    expect((await store.messages.list({ line: DEMO })).length).toBe(1);
  } finally {
    await store.close();
  }
}, 90000);
