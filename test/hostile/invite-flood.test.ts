/**
 * INVITE flood from one source against a real `repondeur serve` process with a small RTP pool (30 sessions).
 * SIPp on 127.0.0.2 sends 150 INVITEs that it never ACKs (and never retransmits, -nr); meanwhile SIPp on 127.0.0.1
 * leaves 4 voicemail messages and SIPp on 127.0.0.3 sends OPTIONS. Without admission control the flood takes every
 * RTP port until its 2xx time out and the deposits get 503. With it, the flooder gets at most
 * `maxHalfOpenPerSource` calls, then 503 + Retry-After, then silence; every deposit and every OPTIONS succeeds.
 * Then, once the flood's 2xx went unACKed for 64*T1 (the dialogs end with BYE), the same source gets as many
 * calls again: the half-open places and the RTP ports were given back.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startServerProcess, rtpBlock, type ServerProcess } from '../helpers/server-process.js';
import { demoGreetingWaitMs } from '../helpers/greeting-wait.js';
import { describeSipp, runSipp, scenarioPath, type SippResult } from '../helpers/sipp.js';

const PCAP = '/usr/share/sip-tester/g711a.pcap';
const HALF_OPEN_PER_SOURCE = 20;
const FLOOD_CALLS = 150;
const DEPOSITS = 4;

let server: ServerProcess;
let greetingWaitMs = 0;

beforeAll(async () => {
  greetingWaitMs = await demoGreetingWaitMs();
  const { rtpMin } = rtpBlock();
  server = await startServerProcess({
    // 30 RTP sessions: fewer than the flood, more than the flooder's share plus the deposits.
    REPONDEUR_RTP_PORT_MIN: String(rtpMin),
    REPONDEUR_RTP_PORT_MAX: String(rtpMin + 59),
    REPONDEUR_ADMISSION_MAX_HALF_OPEN_PER_SOURCE: String(HALF_OPEN_PER_SOURCE),
    // The defaults, pinned: 40 requests at once then 20/s per source, 10 refusals (503) before silence.
    REPONDEUR_ADMISSION_RATE_PER_SECOND: '20',
    REPONDEUR_ADMISSION_BURST: '40',
    REPONDEUR_ADMISSION_DROP_AFTER_REFUSALS: '10',
    REPONDEUR_ADMISSION_RETRY_AFTER_SECONDS: '10',
    // Only the ACK time-out may end the flood's calls (no silence or length limit before it).
    REPONDEUR_VOICEMAIL_SILENCE_SECONDS: '300',
    REPONDEUR_VOICEMAIL_MAX_MESSAGE_SECONDS: '600',
  });
});

afterAll(async () => {
  await server?.stop();
});

function flood(calls: number): Promise<SippResult> {
  return runSipp({
    scenario: 'flood-invite-no-ack.xml',
    target: `127.0.0.1:${server.sipPort}`,
    localIp: '127.0.0.2',
    calls,
    concurrency: calls,
    rate: 200,
    timeoutMs: 60000,
    extra: ['-nr', '-recv_timeout', '3000'],
  });
}

function outcomes(r: SippResult): Record<'200' | '503' | 'none', number> {
  const count = (o: string): number => (r.logs.match(new RegExp(`outcome=${o} `, 'g')) ?? []).length;
  // A call that got nothing back failed on -recv_timeout.
  return { '200': count('200'), '503': count('503'), none: r.failed };
}

function deposits(): Promise<SippResult> {
  const declared = /<Global variables="([^"]*)"/.exec(readFileSync(scenarioPath('deposit-pcap-hangup.xml'), 'utf8'))![1]!.split(',');
  const values: Record<string, number> = { greeting_ms: greetingWaitMs, audio_ms: 7400 };
  return runSipp({
    scenario: 'deposit-pcap-hangup.xml',
    target: `127.0.0.1:${server.sipPort}`,
    calls: DEPOSITS,
    concurrency: DEPOSITS,
    rate: 10,
    timeoutMs: 90000,
    files: { 'audio.pcap': PCAP },
    extra: declared.flatMap((name) => ['-set', name, String(values[name])]),
  });
}

/** SIPp's Call-IDs end with its local address: the deposits' are …@127.0.0.1. */
const storedFromAlice = (l: Record<string, unknown>): boolean => l.msg === 'deposit: message stored' && String(l.callId).endsWith('@127.0.0.1');

describe('INVITE flood from one source', () => {
  test('the flooder gets its share then 503/silence; deposits and OPTIONS from others succeed; unACKed calls are reclaimed', async () => {
    const flooding = flood(FLOOD_CALLS);
    // The flood is on once admission control refuses its first INVITE.
    await server.waitForLog((l) => l.msg === 'INVITE refused by admission control', 30000);
    const [f, d, o] = await Promise.all([
      flooding,
      deposits(),
      runSipp({ scenario: 'options.xml', target: `127.0.0.1:${server.sipPort}`, localIp: '127.0.0.3', calls: 10, rate: 10 }),
    ]);

    const seen = outcomes(f);
    expect(seen['200'] + seen['503'] + seen.none).toBe(FLOOD_CALLS);
    expect(seen['200']).toBe(HALF_OPEN_PER_SOURCE);
    expect(seen['503']).toBeGreaterThan(0);
    expect(seen.none).toBeGreaterThan(0); // rate-limited past the second threshold: dropped, not answered
    expect(f.messages).toMatch(/SIP\/2\.0 503 Service Unavailable \(too many [a-z ]+\)[\s\S]*Retry-After: 10/);

    if (d.code !== 0 || d.successful !== DEPOSITS) throw new Error(describeSipp(d));
    if (o.code !== 0 || o.successful !== 10) throw new Error(describeSipp(o));
    while (server.logs.filter(storedFromAlice).length < DEPOSITS) {
      await server.waitForLog((l) => storedFromAlice(l) && server.logs.filter(storedFromAlice).length >= DEPOSITS, 30000);
    }
    expect(server.logs.some((l) => l.msg === 'no RTP port free: 503')).toBe(false);

    // §13.3.1.4: each unACKed 2xx ends with a BYE after 64*T1; its call, half-open place and RTP port go back.
    const ackTimeouts = (): number => server.logs.filter((l) => l.msg === 'call ended' && l.reason === 'ack-timeout').length;
    while (ackTimeouts() < HALF_OPEN_PER_SOURCE) {
      await server.waitForLog(() => ackTimeouts() >= HALF_OPEN_PER_SOURCE, 60000);
    }
    // The call flow lets its RTP port go when it is over: after the recording it was in was ended by the BYE.
    const timedOut = new Set(server.logs.filter((l) => l.msg === 'call ended' && l.reason === 'ack-timeout').map((l) => String(l.callId)));
    const flowOver = (): boolean => [...timedOut].every((id) => server.logs.some((l) => l.callId === id && String(l.msg).startsWith('deposit: message')));
    while (!flowOver()) await server.waitForLog(flowOver, 30000);
    const again = outcomes(await flood(HALF_OPEN_PER_SOURCE + 5));
    expect(again['200']).toBe(HALF_OPEN_PER_SOURCE);
    expect(server.logs.some((l) => l.msg === 'no RTP port free: 503')).toBe(false);
  }, 180000);
});
