/**
 * RFC 3261 signalling against a real `repondeur serve` process, driven by SIPp over UDP and TCP.
 * The server rings for 500 ms before answering so that CANCEL and INVITE retransmission have a window.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp, type SippOptions } from '../helpers/sipp.js';

let server: ServerProcess;
const target = (): string => `127.0.0.1:${server.sipPort}`;
const sipp = (o: Omit<SippOptions, 'target'>) => runSipp({ target: target(), ...o });

beforeAll(async () => {
  server = await startServerProcess({ REPONDEUR_SIP_ANSWER_DELAY_MS: '500' });
});

afterAll(async () => {
  await server?.stop();
});

describe('SIPp scenarios against repondeur serve', () => {
  // The lost-ACK case takes 64*T1 = 32 s: run it alongside the others.
  let lostAck: ReturnType<typeof sipp>;
  beforeAll(() => {
    lostAck = sipp({ scenario: 'lost-ack.xml', timeoutMs: 60000 });
  });

  test.each([
    ['basic-call.xml', 'u1'],
    ['basic-call.xml', 't1'],
    ['cancel.xml', 'u1'],
    ['cancel.xml', 't1'],
    ['retransmitted-invite.xml', 'u1'],
    ['retransmitted-bye.xml', 'u1'],
    ['late-offer.xml', 'u1'],
    ['late-offer.xml', 't1'],
    ['options.xml', 'u1'],
    ['options.xml', 't1'],
    ['unknown-method.xml', 'u1'],
    ['unsupported-method.xml', 'u1'],
    ['malformed-cseq.xml', 'u1'],
    ['malformed-cseq.xml', 't1'],
    ['unknown-dialog-bye.xml', 'u1'],
    ['unknown-dialog-info.xml', 'u1'],
  ] as const)('%s over %s gets exactly the expected responses', async (scenario, transport) => {
    const r = await sipp({ scenario, transport });
    expect({ code: r.code, ok: r.successful, failed: r.failed }).toEqual({ code: 0, ok: 1, failed: 0 });
    if (r.code !== 0) throw new Error(describeSipp(r));
  });

  test('lost ACK: the 200 is retransmitted (T1 doubling to T2) until 64*T1, then the server sends BYE', async () => {
    const r = await lostAck;
    if (r.code !== 0) throw new Error(describeSipp(r));
    // Retransmissions at 0.5, 1.5, 3.5, 7.5, 11.5, ..., 31.5 s: 10 of them before 32 s.
    const n = Number(/2xx retransmissions: (\d+)/.exec(r.logs)?.[1] ?? -1);
    expect(n).toBeGreaterThanOrEqual(9);
    expect(n).toBeLessThanOrEqual(11);
    await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('no ACK for our 2xx'), 1000);
  }, 90000);

  test('200 calls, 50 at once, with 0 failed calls', async () => {
    const r = await sipp({ scenario: 'basic-call.xml', calls: 200, concurrency: 50, rate: 100, timeoutMs: 120000 });
    if (r.code !== 0) throw new Error(describeSipp(r));
    expect({ ok: r.successful, failed: r.failed }).toEqual({ ok: 200, failed: 0 });
  }, 150000);
});
