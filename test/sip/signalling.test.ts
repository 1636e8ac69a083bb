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
  // Calls reach the demo line's deposit flow; with no silence timeout it records until BYE, keeping the dialog
  // up as long as a scenario needs it.
  server = await startServerProcess({
    REPONDEUR_SIP_ANSWER_DELAY_MS: '500',
    REPONDEUR_VOICEMAIL_SILENCE_SECONDS: '0',
    REPONDEUR_VOICEMAIL_MAX_MESSAGE_SECONDS: '600',
  });
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
    ['late-offer.xml', 'u1'],
    ['late-offer.xml', 't1'],
    ['options.xml', 'u1'],
    ['options.xml', 't1'],
    ['unknown-method.xml', 'u1'],
    ['unsupported-method.xml', 'u1'],
    ['malformed-header.xml', 'u1'],
    ['malformed-header.xml', 't1'],
    ['unknown-dialog-bye.xml', 'u1'],
    ['unknown-dialog-info.xml', 'u1'],
    ['cancel-unknown.xml', 'u1'],
    ['reinvite-hold.xml', 'u1'],
    ['reinvite-hold.xml', 't1'],
    ['reinvite-glare.xml', 'u1'],
  ] as const)('%s over %s gets exactly the expected responses', async (scenario, transport) => {
    const r = await sipp({ scenario, transport });
    if (r.code !== 0) throw new Error(describeSipp(r));
    expect({ code: r.code, ok: r.successful, failed: r.failed }).toEqual({ code: 0, ok: 1, failed: 0 });
  });

  /** How many times a status line for a CSeq method was received, counted in SIPp's message trace. */
  function received(messages: string, status: RegExp, method: string): number {
    return messages
      .split(/-{20,} /)
      .filter((m) => /message received/.test(m) && status.test(m) && new RegExp(`CSeq: *\\d+ ${method}`).test(m)).length;
  }

  test('a retransmitted INVITE after the ACK is absorbed by the Accepted transaction: one 200 only (RFC 6026 §7.1)', async () => {
    const r = await sipp({ scenario: 'retransmitted-invite.xml' });
    if (r.code !== 0) throw new Error(describeSipp(r));
    expect(received(r.messages, /SIP\/2.0 200 /, 'INVITE')).toBe(1);
  });

  /** Each message of SIPp's trace, in order: which way it went and its start line, To tag and CSeq. */
  function trace(messages: string): Array<{ dir: 'sent' | 'received'; start: string; toTag: string | undefined; cseq: string | undefined }> {
    return messages
      .split(/-{20,} /)
      .map((m) => {
        const lines = m.split(/\r?\n/);
        const dir = /message received/.test(lines[1] ?? '') ? ('received' as const) : ('sent' as const);
        const start = lines.slice(2).find((l) => l.trim() !== '') ?? '';
        const header = (name: string): string | undefined => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
        return { dir, start, toTag: /;\s*tag=([^;\s]+)/.exec(header('to') ?? '')?.[1], cseq: header('cseq') };
      })
      .filter((m) => m.start !== '');
  }

  test('a retransmitted BYE (same branch) is answered with the same 200 by the completed transaction', async () => {
    // -nr: the scenario sends the copy itself; see the scenario for why SIPp's retransmission detection must be off.
    const r = await sipp({ scenario: 'retransmitted-bye.xml', extra: ['-nr'] });
    if (r.code !== 0) throw new Error(describeSipp(r));
    const t = trace(r.messages);
    const dialogTag = t.find((m) => m.dir === 'received' && m.start.startsWith('SIP/2.0 200 ') && /INVITE/.test(m.cseq ?? ''))?.toTag;
    expect(dialogTag).toBeDefined();
    // §17.2.2: "While in the "Completed" state, the server transaction MUST pass the final response to the transport
    // layer for retransmission whenever a retransmission of the request is received": the BYE and its copy each get
    // that 200, with the dialog's To tag, and nothing else (no 481).
    expect(t.filter((m) => m.dir === 'sent' && m.start.startsWith('BYE '))).toHaveLength(2);
    const byeAnswers = t.filter((m) => m.dir === 'received' && /BYE/.test(m.cseq ?? ''));
    expect(byeAnswers.map((m) => ({ start: m.start, toTag: m.toTag }))).toEqual([
      { start: 'SIP/2.0 200 OK', toTag: dialogTag },
      { start: 'SIP/2.0 200 OK', toTag: dialogTag },
    ]);
  });

  test('lost ACK: the 200 is retransmitted (T1 doubling to T2) until 64*T1, then the server sends BYE', async () => {
    const r = await lostAck;
    if (r.code !== 0) throw new Error(describeSipp(r));
    // Retransmissions at 0.5, 1.5, 3.5, 7.5, 11.5, ..., 31.5 s: 10 of them before 32 s.
    const n = received(r.messages, /SIP\/2.0 200 /, 'INVITE') - 1;
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
