/**
 * `GET /metrics` on a real `repondeur serve`: operator bearer token required; the body parses with a strict
 * Prometheus text-format (0.0.4) parser written here; the call series move under a SIPp deposit and a refused call.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { demoGreetingWaitMs } from '../helpers/greeting-wait.js';
import { describeSipp, runSipp, scenarioPath } from '../helpers/sipp.js';

const TOKEN = 'metrics-test-token';
let proc: ServerProcess;
let greetingWaitMs = 0;

beforeAll(async () => {
  greetingWaitMs = await demoGreetingWaitMs();
  proc = await startServerProcess({ REPONDEUR_API_OPERATOR_TOKEN: TOKEN });
});
afterAll(async () => proc?.stop());

type Samples = Map<string, number>;

/** A strict parser of the text exposition format: throws on any line it does not understand. */
function parsePrometheus(text: string): { samples: Samples; types: Map<string, string> } {
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
  const sampleRe = new RegExp(`^(${NAME})(\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Samples = new Map();
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      if (helps.has(m[1]!)) throw new Error(`line ${i + 1}: second HELP for ${m[1]}`);
      helps.add(m[1]!);
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      if (types.has(m[1]!)) throw new Error(`line ${i + 1}: second TYPE for ${m[1]}`);
      types.set(m[1]!, m[2]!);
    } else if (line.startsWith('#')) {
      throw new Error(`line ${i + 1}: unknown comment ${line}`);
    } else if ((m = sampleRe.exec(line))) {
      const [, name, labels = '', value] = m;
      // Prometheus reads values with Go's strconv.ParseFloat: Inf and NaN in any case (prom-client writes "Nan" for
      // an event-loop percentile before its first sample).
      if (!/^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf|nan)$/i.test(value!)) throw new Error(`line ${i + 1}: bad value ${value}`);
      const family = [...types.keys()].find((f) => name === f || (/^(histogram|summary)$/.test(types.get(f)!) && [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(name!)));
      if (!family) throw new Error(`line ${i + 1}: sample ${name} before its TYPE`);
      const key = `${name}${labels}`;
      if (samples.has(key)) throw new Error(`line ${i + 1}: duplicate sample ${key}`);
      samples.set(key, Number(value!.replace(/Inf$/, 'Infinity')));
    } else {
      throw new Error(`line ${i + 1}: not exposition format: ${JSON.stringify(line)}`);
    }
  }
  return { samples, types };
}

async function scrape(): Promise<{ samples: Samples; types: Map<string, string> }> {
  const res = await fetch(`http://127.0.0.1:${proc.apiPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

test('/metrics needs the operator token', async () => {
  const res = await fetch(`http://127.0.0.1:${proc.apiPort}/metrics`);
  expect(res.status).toBe(401);
  const wrong = await fetch(`http://127.0.0.1:${proc.apiPort}/metrics`, { headers: { authorization: 'Bearer nope' } });
  expect([401, 403]).toContain(wrong.status);
});

test('the strict parser refuses malformed expositions', () => {
  expect(() => parsePrometheus('x 1\n')).toThrow(/before its TYPE/);
  expect(() => parsePrometheus('# TYPE x counter\nx{a=b} 1\n')).toThrow(/not exposition format/);
  expect(() => parsePrometheus('# TYPE x counter\nx one\n')).toThrow(/bad value/);
});

test('series parse and move under a deposit, a refused call and a dial-in login', async () => {
  const before = await scrape();
  expect(before.types.get('repondeur_call_setups_total')).toBe('counter');
  expect(before.types.get('repondeur_active_calls')).toBe('gauge');
  expect(before.types.get('repondeur_process_nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
  expect(before.samples.get('repondeur_outbox_jobs{status="pending"}')).toBeDefined();
  expect(before.samples.get('repondeur_outbox_oldest_pending_age_seconds')).toBeDefined();
  const at = (s: Samples, key: string): number => s.get(key) ?? 0;

  const declared = /<Global variables="([^"]*)"/.exec(readFileSync(scenarioPath('deposit-pcap-hangup.xml'), 'utf8'))?.[1]?.split(',') ?? [];
  const values: Record<string, number> = { greeting_ms: greetingWaitMs, audio_ms: 7400 };
  const deposit = await runSipp({
    scenario: 'deposit-pcap-hangup.xml',
    target: `127.0.0.1:${proc.sipPort}`,
    files: { 'audio.pcap': '/usr/share/sip-tester/g711a.pcap' },
    timeoutMs: 60000,
    extra: declared.flatMap((name) => ['-set', name, String(values[name])]),
  });
  if (deposit.code !== 0) throw new Error(describeSipp(deposit));
  const stored = await proc.waitForLog((l) => l.msg === 'deposit: message stored');
  // The call's RTP session has closed (its losses are in the totals) once it logged so.
  expect(typeof stored.callId).toBe('string');
  const depositRtp = await proc.waitForLog((l) => l.msg === 'RTP session closed' && l.callId === stored.callId);
  expect(depositRtp.packetsLost).toBe(0);
  const afterDeposit = await scrape();
  // The pcap replay numbers its packets without a gap: loopback loses nothing.
  expect(at(afterDeposit.samples, 'repondeur_rtp_packets_lost_total')).toBe(at(before.samples, 'repondeur_rtp_packets_lost_total'));
  expect(at(afterDeposit.samples, 'repondeur_rtp_packets_received_total')).toBeGreaterThanOrEqual(at(before.samples, 'repondeur_rtp_packets_received_total') + 236);
  const refused = await runSipp({ scenario: 'deposit-refused.xml', target: `127.0.0.1:${proc.sipPort}`, service: '+33900000999', timeoutMs: 10000 });
  if (refused.code !== 0) throw new Error(describeSipp(refused));
  expect(refused.logs).toContain('final=404');

  // A dial-in login to the demo mailbox (PIN 1234) by RFC 4733 digits.
  const login = await runSipp({
    scenario: 'dialin-login-rfc4733.xml',
    target: `127.0.0.1:${proc.sipPort}`,
    service: '0033979947994',
    extra: ['-key', 'caller', '0611223344', '-key', 'mailbox', '0912345678'],
    timeoutMs: 90000,
  });
  if (login.code !== 0) throw new Error(describeSipp(login));
  const accepted = await proc.waitForLog((l) => l.msg === 'dial-in: PIN accepted');
  const dialInRtp = await proc.waitForLog((l) => l.msg === 'RTP session closed' && l.callId === accepted.callId);

  const after = await scrape();
  expect(at(after.samples, 'repondeur_dialin_auth_total{outcome="login-pin"}')).toBe(at(before.samples, 'repondeur_dialin_auth_total{outcome="login-pin"}') + 1);
  expect(at(after.samples, 'repondeur_call_setups_total{kind="dialin"}')).toBe(at(before.samples, 'repondeur_call_setups_total{kind="dialin"}') + 1);
  expect(at(after.samples, 'repondeur_call_setups_total{kind="deposit"}')).toBe(at(before.samples, 'repondeur_call_setups_total{kind="deposit"}') + 1);
  expect(at(after.samples, 'repondeur_deposits_total{outcome="stored"}')).toBe(at(before.samples, 'repondeur_deposits_total{outcome="stored"}') + 1);
  expect(at(after.samples, 'repondeur_call_failures_total{cause="not_found"}')).toBe(at(before.samples, 'repondeur_call_failures_total{cause="not_found"}') + 1);
  expect(at(after.samples, 'repondeur_active_calls{kind="deposit"}')).toBe(0);

  // Media and store series: read from plain counters at scrape time.
  for (const name of ['repondeur_rtp_packets_received_total', 'repondeur_rtp_packets_sent_total', 'repondeur_rtp_packets_sent_late_total', 'repondeur_rtp_packets_lost_total', 'repondeur_dialin_pin_failures_total']) {
    expect(after.types.get(name)).toBe('counter');
    expect(after.samples.get(name)).toBeDefined();
  }
  expect(after.types.get('repondeur_store_query_seconds')).toBe('histogram');
  // The deposit's pcap alone is 236 packets; both calls heard prompts.
  const delta = (key: string): number => at(after.samples, key) - at(before.samples, key);
  expect(delta('repondeur_rtp_packets_received_total')).toBeGreaterThanOrEqual(236 + Number(dialInRtp.packetsReceived));
  expect(Number(dialInRtp.packetsReceived)).toBeGreaterThan(0);
  expect(delta('repondeur_rtp_packets_sent_total')).toBeGreaterThanOrEqual(Number(depositRtp.packetsSent) + Number(dialInRtp.packetsSent));
  expect(Number(dialInRtp.packetsSent)).toBeGreaterThan(0);
  expect(at(after.samples, 'repondeur_rtp_packets_sent_late_total')).toBeLessThanOrEqual(at(after.samples, 'repondeur_rtp_packets_sent_total'));
  // SIPp 3.6.1's play_dtmf numbers its PT 97 fillers two apart (measured: 1200, 1202, …): RFC 3550 A.3 counts
  // those gaps as lost, so the dial-in's losses are what its session reported, not a loopback loss.
  expect(at(after.samples, 'repondeur_rtp_packets_lost_total') - at(afterDeposit.samples, 'repondeur_rtp_packets_lost_total')).toBe(Number(dialInRtp.packetsLost));
  expect(at(after.samples, 'repondeur_store_query_seconds_count')).toBeGreaterThan(at(before.samples, 'repondeur_store_query_seconds_count'));
  expect(at(after.samples, 'repondeur_store_query_seconds_bucket{le="+Inf"}')).toBe(at(after.samples, 'repondeur_store_query_seconds_count'));
  expect(at(after.samples, 'repondeur_store_query_seconds_sum')).toBeGreaterThan(0);
  // The login typed the right PIN at once.
  expect(at(after.samples, 'repondeur_dialin_pin_failures_total')).toBe(at(before.samples, 'repondeur_dialin_pin_failures_total'));
}, 150000);

test('each wrong PIN of a dial-in call counts once', async () => {
  const before = await scrape();
  const at = (s: Samples, key: string): number => s.get(key) ?? 0;
  // Three wrong PINs for the demo line (maxFailures 5: the line is not locked afterwards).
  const sipp = await runSipp({
    scenario: 'dialin-wrong-pin.xml',
    target: `127.0.0.1:${proc.sipPort}`,
    service: '0033979947994',
    extra: ['-key', 'caller', '0611223344', '-key', 'mailbox', '0912345678'],
    timeoutMs: 90000,
  });
  if (sipp.code !== 0) throw new Error(describeSipp(sipp));
  const after = await scrape();
  expect(at(after.samples, 'repondeur_dialin_pin_failures_total')).toBe(at(before.samples, 'repondeur_dialin_pin_failures_total') + 3);
  expect(at(after.samples, 'repondeur_dialin_auth_total{outcome="refused-too-many-tries"}')).toBe(at(before.samples, 'repondeur_dialin_auth_total{outcome="refused-too-many-tries"}') + 1);
}, 120000);
