/**
 * Graceful overload against a real `repondeur serve` process: with `admission.maxCalls` = 4, four deposits from
 * SIPp on 127.0.0.1 are up (greeting, then g711a.pcap recorded); meanwhile SIPp on 127.0.0.2 sends 6 more INVITEs.
 * Each of them gets `503 Service Unavailable (too many calls in progress)` with `Retry-After`, and the four calls
 * already up keep their media: every one completes, and its message is stored with the whole of the audio sent.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { demoGreetingWaitMs } from '../helpers/greeting-wait.js';
import { describeSipp, runSipp, scenarioPath, type SippResult } from '../helpers/sipp.js';

const PCAP = '/usr/share/sip-tester/g711a.pcap';
const MAX_CALLS = 4;
const EXTRA_CALLS = 6;
/** What deposit-pcap-hangup.xml plays after the greeting before it hangs up (g711a.pcap is 7.05 s long). */
const AUDIO_MS = 7400;

let server: ServerProcess;
let greetingWaitMs = 0;

beforeAll(async () => {
  greetingWaitMs = await demoGreetingWaitMs();
  server = await startServerProcess({
    REPONDEUR_ADMISSION_MAX_CALLS: String(MAX_CALLS),
    REPONDEUR_ADMISSION_MAX_HALF_OPEN: String(MAX_CALLS),
    REPONDEUR_ADMISSION_RETRY_AFTER_SECONDS: '7',
  });
});

afterAll(async () => {
  await server?.stop();
});

function deposits(): Promise<SippResult> {
  const declared = /<Global variables="([^"]*)"/.exec(readFileSync(scenarioPath('deposit-pcap-hangup.xml'), 'utf8'))![1]!.split(',');
  const values: Record<string, number> = { greeting_ms: greetingWaitMs, audio_ms: AUDIO_MS };
  return runSipp({
    scenario: 'deposit-pcap-hangup.xml',
    target: `127.0.0.1:${server.sipPort}`,
    calls: MAX_CALLS,
    concurrency: MAX_CALLS,
    rate: 10,
    timeoutMs: 90000,
    files: { 'audio.pcap': PCAP },
    extra: declared.flatMap((name) => ['-set', name, String(values[name])]),
  });
}

const stored = (): Array<Record<string, unknown>> => server.logs.filter((l) => l.msg === 'deposit: message stored');

describe('beyond admission.maxCalls', () => {
  test('new INVITEs get 503 + Retry-After while the calls already up keep their media and are stored whole', async () => {
    const up = deposits();
    // All four calls answered and hearing their greeting: the server is at its cap.
    while (server.logs.filter((l) => l.msg === 'deposit: greeting').length < MAX_CALLS) {
      await server.waitForLog((l) => l.msg === 'deposit: greeting' && server.logs.filter((g) => g.msg === 'deposit: greeting').length >= MAX_CALLS, 30000);
    }
    const extra = await runSipp({
      scenario: 'flood-invite-no-ack.xml',
      target: `127.0.0.1:${server.sipPort}`,
      localIp: '127.0.0.2',
      calls: EXTRA_CALLS,
      concurrency: EXTRA_CALLS,
      rate: 50,
      timeoutMs: 30000,
      extra: ['-nr', '-recv_timeout', '5000'],
    });
    const refused = (extra.logs.match(/outcome=503 /g) ?? []).length;
    expect(refused).toBe(EXTRA_CALLS);
    expect(extra.messages).toMatch(/SIP\/2\.0 503 Service Unavailable \(too many calls in progress\)[\s\S]*Retry-After: 7/);
    expect(server.logs.filter((l) => l.msg === 'deposit: greeting')).toHaveLength(MAX_CALLS);

    const d = await up;
    if (d.code !== 0 || d.successful !== MAX_CALLS) throw new Error(describeSipp(d));
    while (stored().length < MAX_CALLS) {
      await server.waitForLog((l) => l.msg === 'deposit: message stored' && stored().length >= MAX_CALLS, 30000);
    }
    // The whole pcap (7.05 s) reached each recording: the calls up were not degraded by the refused ones.
    for (const m of stored()) expect(Number(m.durationMs)).toBeGreaterThanOrEqual(7000);
  }, 120000);
});
