/**
 * A real `repondeur serve` with media.workers = 2 (RTP in two worker threads): a SIPp deposit is stored sample for
 * sample as sent, a dial-in login by RFC 4733 hears its prompts (matched against the prompt files) and logs in, and
 * the engine metrics count the RTP the workers sent. The same flows as test/ivr/deposit and test/ivr/dialin, with
 * the media on the other threads.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { decodeWav, encodeWav } from '../../src/shared/audio/wav.js';
import { multiTone } from '../../src/media/tones.js';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../src/ivr/prompts/catalog.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp, scenarioPath } from '../helpers/sipp.js';
import { demoGreetingWaitMs } from '../helpers/greeting-wait.js';
import { TestUa } from '../helpers/test-ua.js';
import { expectPromptsHeard } from '../helpers/prompt-match.js';
import { until } from '../helpers/wait.js';
import { findExactly, pcapAudio, readPcap } from './deposit/audio.js';

const LINE = '+33912345678';
const DIAL_IN = '0033979947994';
const PCAP = '/usr/share/sip-tester/g711a.pcap';

let server: ServerProcess;
let store: Store;

beforeAll(async () => {
  server = await startServerProcess({ REPONDEUR_MEDIA_WORKERS: '2', REPONDEUR_API_OPERATOR_TOKEN: 'media-workers-test-token' });
  store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
}, 120_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

/** `-set` options for the pause variables a scenario declares (SIPp refuses undeclared and unused ones). */
function pauseVariables(scenario: string, values: Record<string, number>): string[] {
  const declared = /<Global variables="([^"]*)"/.exec(readFileSync(scenarioPath(scenario), 'utf8'))?.[1]?.split(',') ?? [];
  return declared.flatMap((name) => ['-set', name, String(values[name])]);
}

describe('media.workers = 2', () => {
  test('the server runs its media in two worker threads, each owning half of the RTP range', () => {
    const started = server.logs.find((l) => l.msg === 'media in worker threads');
    expect(started).toMatchObject({ workers: 2 });
    expect(started!.shares as string[]).toHaveLength(2);
  });

  test('SIPp deposit (PCMA 30 ms, caller hangs up): the stored WAV holds exactly the sent samples', async () => {
    const greetingMs = await demoGreetingWaitMs();
    const scenario = 'deposit-pcap-hangup.xml';
    const r = await runSipp({
      scenario,
      target: `127.0.0.1:${server.sipPort}`,
      timeoutMs: 90_000,
      files: { 'audio.pcap': PCAP },
      extra: pauseVariables(scenario, { greeting_ms: greetingMs, audio_ms: 7400 }),
    });
    if (r.code !== 0) throw new Error(describeSipp(r));
    const log = await server.waitForLog((l) => l.msg === 'deposit: message stored', 30_000);
    const wav = decodeWav(await store.messages.getAudio(String(log.messageId)));
    expect(wav.sampleRate).toBe(8000);
    expect(findExactly(wav.samples, pcapAudio(readPcap(PCAP)))).toBeGreaterThanOrEqual(0);
    const message = await store.messages.get(String(log.messageId));
    expect(message.durationMs).toBeGreaterThanOrEqual(7050);
    expect(message.durationMs).toBeLessThan(7050 + 1500);
  }, 120_000);

  test('dial-in login by RFC 4733: welcome, line number, PIN, "vous avez deux nouveaux messages", menu; # gets goodbye and BYE', async () => {
    for (const m of await store.messages.list({ line: LINE })) await store.messages.delete(m.id);
    const now = Date.now();
    for (const at of [now - 2000, now - 1000]) {
      await store.messages.create({ line: LINE, caller: '+33611223344', callee: LINE, durationMs: 1000, wav: encodeWav(multiTone([440], 1000)), dir: 'inbox', creationDatetime: at });
    }
    const catalog = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
    const ua = await TestUa.create({ server: `127.0.0.1:${server.sipPort}` });
    try {
      const { status, call } = await ua.invite({ to: DIAL_IN, from: '0611223344', telephoneEvent: [101] });
      expect(status).toBe(200);
      await call!.waitForAudioSilence({ silenceMs: 700, timeoutMs: 15_000 });
      await call!.sendDtmf4733('0912345678#', { pt: 101 });
      // The PIN prompt after the line number: a loaded server may start it after 700 ms of silence (afterMs).
      await call!.waitForAudioSilence({ silenceMs: 700, timeoutMs: 15_000, afterMs: performance.now() });
      const logsBefore = server.logs.length;
      await call!.sendDtmf4733('1234#', { pt: 101 });
      const saidMenu = (): boolean => server.logs.slice(logsBefore).some((l) => l.msg === 'dial-in: saying' && JSON.stringify(l.prompts) === '["main_menu"]');
      await call!.waitUntil(saidMenu, { timeoutMs: 30_000, what: 'the main menu after the PIN' });
      await call!.waitForAudioSilence({ silenceMs: 1500, timeoutMs: 30_000 });
      await call!.sendDtmf4733('#', { pt: 101 });
      await call!.waitForBye(15_000);
      expectPromptsHeard(call!.received(), catalog, 'fr', ['dialin_welcome', 'enter_mailbox', 'enter_pin', 'you_have', 'number_2', 'new_messages', 'main_menu', 'goodbye'], call!.audio!.codec);
    } finally {
      ua.close();
    }
  }, 120_000);

  test('the engine metrics count the RTP sent and received by the workers', async () => {
    // Two calls' prompts (an 11 s greeting, then the dial-in prompts) and the deposit's 7 s of audio; the workers
    // report their counters every 250 ms.
    let rtp = { sent: 0, received: 0 };
    await until('the workers\' RTP in the metrics', async () => {
      const res = await fetch(`http://127.0.0.1:${server.apiPort}/api/v1/metrics`, { headers: { authorization: 'Bearer media-workers-test-token' } });
      expect(res.status).toBe(200);
      rtp = ((await res.json()) as { rtp: typeof rtp }).rtp;
      return rtp.sent > 500 && rtp.received > 200;
    }, 10_000, 200);
    expect(rtp.sent).toBeGreaterThan(500);
  }, 30_000);
});
