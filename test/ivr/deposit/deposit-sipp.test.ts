/**
 * The deposit flow end to end: a real `repondeur serve` process, SIPp as the caller, the stored message read back
 * from the same SQLite file and compared sample for sample with what SIPp sent (G.711 decoded by alawmulaw).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { systemPromptIds, GREETING_GAP_MS } from '../../../src/ivr/deposit/index.js';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../../src/ivr/prompts/catalog.js';
import { decodeWav } from '../../../src/shared/audio/wav.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { until } from '../../helpers/wait.js';
import { callIdOf, describeSipp, runSipp, scenarioPath, type SippOptions, type SippResult } from '../../helpers/sipp.js';
import { decodeMulaw, findExactly, pcapAudio, prefixOffset, readPcap, writePcap, type Pcap } from './audio.js';

const DEMO = '+33912345678';
/** A line of its own for the test that counts a line's messages, so that the deposits running beside it leave it alone. */
const SHORT_LINE = '+33912000012';
const PCAP = '/usr/share/sip-tester/g711a.pcap';
const POUND = '/usr/share/sip-tester/dtmf_2833_pound.pcap';
const work = mkdtempSync(join(tmpdir(), 'deposit-fixtures-'));
const original = readPcap(PCAP);
const sentAudio = pcapAudio(original);

let greetingWaitMs = 0;
/** The same wait for SHORT_LINE, whose system greeting says another number. */
let shortLineGreetingWaitMs = 0;
/** The system greeting alone (no beep, no margin). */
let greetingMs = 0;

beforeAll(async () => {
  const prompts = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
  const greetingOf = (spokenNumber: string): number =>
    prompts.durationMs('fr', systemPromptIds({ source: 'system' }, { language: 'fr', spokenNumber, busy: false, doNotRecord: false }), GREETING_GAP_MS);
  // The greeting, the 300 ms beep, and a margin for the answer and pacing.
  greetingMs = Math.floor(greetingOf('0912345678'));
  greetingWaitMs = Math.ceil(greetingOf('0912345678')) + 300 + 1200;
  shortLineGreetingWaitMs = Math.ceil(greetingOf('0912000012')) + 300 + 1200;
});

/**
 * A running server with the store opened on its SQLite file. Tests in a describe call it at the same time: each one
 * finds its own call's log lines by Call-ID (the server's per-call logger puts `callId` in every line).
 */
class DepositServer {
  private constructor(
    readonly proc: ServerProcess,
    readonly store: Store,
  ) {}

  static async start(env: Record<string, string> = {}, dir?: string): Promise<DepositServer> {
    const proc = await startServerProcess(env, dir ? { dir } : {});
    const store = await openStore(`sqlite:${join(proc.dir, 'repondeur.db')}`);
    return new DepositServer(proc, store);
  }

  sipp(o: Omit<SippOptions, 'target'> & { audioMs?: number; greetingMs?: number }): Promise<SippResult> {
    const { audioMs, greetingMs: greetingPauseMs, ...rest } = o;
    return runSipp({
      target: `127.0.0.1:${this.proc.sipPort}`,
      timeoutMs: 90000,
      ...rest,
      extra: [...pauseVariables(rest.scenario, { greeting_ms: greetingPauseMs ?? greetingWaitMs, audio_ms: audioMs ?? 7400 }), ...(rest.extra ?? [])],
    });
  }

  /** The server's log line `msg` for SIPp's call `r` (and `more`, if given), waited for. */
  logOf(r: SippResult, msg: string, more: (l: Record<string, unknown>) => boolean = () => true, timeoutMs = 20000): Promise<Record<string, unknown>> {
    const callId = callIdOf(r);
    return this.proc.waitForLog((l) => l.msg === msg && l.callId === callId && more(l), timeoutMs);
  }

  /** Waits for the 'deposit: message stored' log line of SIPp's call `r` and returns the message's audio. */
  async storedBy(r: SippResult, timeoutMs = 20000): Promise<{ id: string; samples: Int16Array; durationMs: number; caller: string; callerName: string | null }> {
    const log = await this.logOf(r, 'deposit: message stored', undefined, timeoutMs);
    const id = String(log.messageId);
    const message = await this.store.messages.get(id);
    const wav = decodeWav(await this.store.messages.getAudio(id));
    expect(wav.sampleRate).toBe(8000);
    return { id, samples: wav.samples, durationMs: message.durationMs, caller: message.caller, callerName: message.callerName };
  }

  async count(line = DEMO): Promise<number> {
    return (await this.store.messages.list({ line })).length;
  }

  async stop(signal?: NodeJS.Signals): Promise<void> {
    await this.store.close();
    await this.proc.stop(signal);
  }
}

/** `-set` options for the pause variables a scenario declares (SIPp refuses undeclared and unused ones). */
function pauseVariables(scenario: string, values: Record<string, number>): string[] {
  const declared = /<Global variables="([^"]*)"/.exec(readFileSync(scenarioPath(scenario), 'utf8'))?.[1]?.split(',') ?? [];
  return declared.flatMap((name) => ['-set', name, String(values[name])]);
}

function expectOk(r: SippResult): void {
  if (r.code !== 0) throw new Error(describeSipp(r));
}

/** `pcap` with its packets rearranged; record headers (capture times) stay in place, so only the order changes. */
function mutated(name: string, f: (p: Pcap) => Pcap['records']): string {
  const path = join(work, name);
  writePcap(path, { ...original, records: f(original) });
  return path;
}

// In each describe below the calls are independent and share one server: they run at the same time (jest.config.js
// maxConcurrency), each test matching its own call's log lines by Call-ID.
describe('deposits with the default configuration', () => {
  let server: DepositServer;
  beforeAll(async () => {
    server = await DepositServer.start();
    await server.store.lines.create({ number: '+33912000010', routing: 'fax' });
    await server.store.lines.create({ number: '+33912000011', routing: 'voicemail', settings: { doNotRecord: true } });
    await server.store.lines.create({ number: SHORT_LINE, routing: 'voicemail' });
  });
  afterAll(async () => server?.stop());

  test.concurrent('PCMA 30 ms (g711a.pcap), caller hangs up: the stored WAV holds exactly the sent samples', async () => {
    const r = await server.sipp({ scenario: 'deposit-pcap-hangup.xml', files: { 'audio.pcap': PCAP } });
    expectOk(r);
    const m = await server.storedBy(r);
    expect(findExactly(m.samples, sentAudio)).toBeGreaterThanOrEqual(0);
    expect(m.durationMs).toBe(Math.round((m.samples.length * 1000) / 8000));
    expect(m.durationMs).toBeGreaterThanOrEqual(7050);
    expect(m.durationMs).toBeLessThan(7050 + 1500);
    expect(m.caller).toBe('+33611223344');
    expect(m.callerName).toBe('Alice Caller');
  }, 60000);

  test.concurrent('PCMU 20 ms raw stream (sox), caller hangs up: exactly the sent samples', async () => {
    const ul = join(work, 'audio.ul');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', ul, 'synth', '3', 'sine', '300-3000', 'vol', '0.5']);
    const bytes = readFileSync(ul);
    const r = await server.sipp({ scenario: 'deposit-pcmu-stream-hangup.xml', files: { 'audio.ul': ul }, audioMs: 3600 });
    expectOk(r);
    const m = await server.storedBy(r);
    expect(findExactly(m.samples, decodeMulaw(bytes))).toBeGreaterThanOrEqual(0);
    expect(m.durationMs).toBeGreaterThanOrEqual(3000);
    expect(m.durationMs).toBeLessThan(4500);
  }, 60000);

  test.concurrent.each([
    ['RFC 4733 on PT 101 (dtmf_2833_pound.pcap)', 'deposit-pcap-pound-101.xml'],
    ['RFC 2833 on PT 96 (SIPp play_dtmf)', 'deposit-pcap-pound-96.xml'],
    ['SIP INFO application/dtmf-relay', 'deposit-pcap-pound-info.xml'],
  ])('# by %s ends the recording; the message is stored and the server hangs up', async (_how, scenario) => {
    const r = await server.sipp({ scenario, files: { 'audio.pcap': PCAP, 'pound.pcap': POUND } });
    expectOk(r);
    const m = await server.storedBy(r);
    // The # arrives after the whole pcap: everything sent is there, followed only by silence up to the key press.
    expect(findExactly(m.samples, sentAudio)).toBeGreaterThanOrEqual(0);
    const ended = await server.logOf(r, 'recording ended', (l) => l.end === 'dtmf');
    expect(ended.digit).toBe('#');
  }, 60000);

  test.concurrent.each([
    // Packets 20, 30, … 190 go out after their successor; capture times stay in place (only the data moves).
    ['reordered', (p: Pcap) => p.records.map((r, i, all) => {
      const swapWith = i >= 20 && i < 200 ? (i % 10 === 0 ? i + 1 : i % 10 === 1 ? i - 1 : i) : i;
      return { header: r.header, data: all[swapWith]!.data };
    })],
    ['duplicated', (p: Pcap) => p.records.flatMap((r, i) => (i % 7 === 3 ? [r, r] : [r]))],
  ] as const)('%s RTP packets still give exactly the sent audio', async (name, f) => {
    const path = mutated(`${name}.pcap`, f);
    const r = await server.sipp({ scenario: 'deposit-pcap-hangup.xml', files: { 'audio.pcap': path } });
    expectOk(r);
    const m = await server.storedBy(r);
    expect(findExactly(m.samples, sentAudio)).toBeGreaterThanOrEqual(0);
  }, 60000);

  test.concurrent('lost RTP packets are filled with silence of their length, everything else is exact', async () => {
    const lost = new Set([30, 31, 100, 177]);
    const path = mutated('lost.pcap', (p) => p.records.filter((_r, i) => !lost.has(i)));
    const r = await server.sipp({ scenario: 'deposit-pcap-hangup.xml', files: { 'audio.pcap': path } });
    expectOk(r);
    const m = await server.storedBy(r);
    const expected = sentAudio.slice();
    for (const i of lost) expected.fill(0, i * 240, (i + 1) * 240);
    expect(findExactly(m.samples, expected)).toBeGreaterThanOrEqual(0);
  }, 60000);

  test.concurrent('# right after the beep: too short, discarded, nothing stored', async () => {
    const before = await server.count(SHORT_LINE);
    const r = await server.sipp({ scenario: 'deposit-short-info.xml', service: SHORT_LINE, greetingMs: shortLineGreetingWaitMs });
    expectOk(r);
    await server.logOf(r, 'deposit: message too short, discarded');
    expect(await server.count(SHORT_LINE)).toBe(before);
  }, 60000);

  test.concurrent('doNotRecord: the greeting plays, the server hangs up, nothing is stored', async () => {
    const r = await server.sipp({ scenario: 'deposit-listen.xml', service: '+33912000011' });
    expectOk(r);
    await server.logOf(r, 'deposit: mailbox takes no messages');
    expect(await server.count('+33912000011')).toBe(0);
  }, 60000);

  test.concurrent('fax-routed line without fax destination: 480; unknown line: 404', async () => {
    const fax = await server.sipp({ scenario: 'deposit-refused.xml', service: '+33912000010' });
    expectOk(fax);
    expect(fax.logs).toContain('final=480');
    const unknown = await server.sipp({ scenario: 'deposit-refused.xml', service: '+33912999999' });
    expectOk(unknown);
    expect(unknown.logs).toContain('final=404');
  }, 60000);
});

describe('limits: maxMessageSeconds=3, silenceSeconds=2, fax destination set', () => {
  let server: DepositServer;
  beforeAll(async () => {
    server = await DepositServer.start({
      REPONDEUR_VOICEMAIL_MAX_MESSAGE_SECONDS: '3',
      REPONDEUR_VOICEMAIL_SILENCE_SECONDS: '2',
      REPONDEUR_VOICEMAIL_FAX_DESTINATION: 'sip:fax@127.0.0.1:5999',
    });
    await server.store.lines.create({ number: '+33912000010', routing: 'fax' });
  });
  afterAll(async () => server?.stop());

  // g711a.pcap is quiet for its first 0.8 s: these tests start at packet 27 so that the 2 s silence timer only
  // runs where the caller really stops talking.
  const VOICED_FROM = 27;

  test.concurrent('max length: the recording stops at 3 s, holding the start of what was sent', async () => {
    const voiced = mutated('voiced.pcap', (p) => p.records.slice(VOICED_FROM));
    const r = await server.sipp({ scenario: 'deposit-pcap-server-ends.xml', files: { 'audio.pcap': voiced } });
    expectOk(r);
    const m = await server.storedBy(r);
    expect(m.durationMs).toBe(3000);
    expect(prefixOffset(m.samples, sentAudio.subarray(VOICED_FROM * 240))).toBeGreaterThanOrEqual(0);
    await server.logOf(r, 'recording ended', (l) => l.end === 'max-length');
  }, 60000);

  test.concurrent('silence: 2 s after the caller stops sending, the recording ends and is stored', async () => {
    const short = mutated('short.pcap', (p) => p.records.slice(VOICED_FROM, VOICED_FROM + 40));
    const r = await server.sipp({ scenario: 'deposit-pcap-server-ends.xml', files: { 'audio.pcap': short } });
    expectOk(r);
    const m = await server.storedBy(r);
    await server.logOf(r, 'recording ended', (l) => l.end === 'silence');
    const sent = sentAudio.subarray(VOICED_FROM * 240, (VOICED_FROM + 40) * 240);
    expect(findExactly(m.samples, sent)).toBeGreaterThanOrEqual(0);
  }, 60000);

  test.concurrent('fax-routed line with a fax destination: 302 to it', async () => {
    const r = await server.sipp({ scenario: 'deposit-refused.xml', service: '+33912000010' });
    expectOk(r);
    expect(r.logs).toContain('final=302');
    expect(r.logs).toContain('sip:fax@127.0.0.1:5999');
  }, 60000);
});

describe('crash recovery', () => {
  test('kill -9 mid-recording, restart on the same storage: the partial message is stored, a prefix of what was sent', async () => {
    const first = await DepositServer.start();
    const dir = first.proc.dir;
    const call = first.sipp({ scenario: 'deposit-pcap-hangup.xml', files: { 'audio.pcap': PCAP }, timeoutMs: 30000 });
    // Killed once 3 s of the message are on disk (the spool is written every second): mid-recording, whatever the load.
    const started = await first.proc.waitForLog((l) => l.msg === 'recording started', greetingWaitMs + 30_000);
    const spool = resolve(first.proc.dir, String(started.path));
    await until('3 s of audio in the spool', () => existsSync(spool) && statSync(spool).size >= 44 + 3 * 16_000, 30_000);
    await first.stop('SIGKILL');
    await call;
    const second = await DepositServer.start({}, dir);
    try {
      await second.proc.waitForLog((l) => l.msg === 'spool: interrupted deposit stored');
      const messages = await second.store.messages.list({ line: DEMO });
      expect(messages).toHaveLength(1);
      const samples = decodeWav(await second.store.messages.getAudio(messages[0]!.id)).samples;
      expect(prefixOffset(samples, sentAudio)).toBeGreaterThanOrEqual(0);
      expect(messages[0]!.durationMs).toBeGreaterThan(2000);
      expect(messages[0]!.durationMs).toBeLessThan(7000);
      // Dated at the beep (after the whole greeting), not at the call's arrival.
      const greeting = first.proc.logs.find((l) => l.msg === 'deposit: greeting');
      expect(messages[0]!.creationDatetime).toBeGreaterThanOrEqual(Number(greeting!.time) + greetingMs);
    } finally {
      await second.stop();
    }
  }, 90000);
});
