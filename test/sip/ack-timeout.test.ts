import { describe, expect, test } from '@jest/globals';
import pino from 'pino';
import { ManualClock } from '../../src/shared/clock.js';
import { UasDialogState } from '../../src/sip/dialog.js';
import type { Peer, SipResponse } from '../../src/sip/message.js';
import { createResponse } from '../../src/sip/response.js';
import { SipDialog, type DialogHost } from '../../src/sip/sip-dialog.js';
import { DEFAULT_TIMERS } from '../../src/sip/transactions/timers.js';
import { makeRequest, TCP_PEER, UDP_PEER } from './transactions/helpers.js';

const logger = pino({ level: 'silent' });

/** A dialog on a ManualClock recording when each 2xx and each in-dialog request leaves. */
function setup(peer: Peer) {
  const clock = new ManualClock();
  const sent: Array<{ at: number; what: string }> = [];
  const host: DialogHost = {
    clock,
    timers: DEFAULT_TIMERS,
    sendResponse: (res: SipResponse) => void sent.push({ at: clock.now(), what: String(res.status) }),
    sendInDialog: async (_d, method) => {
      sent.push({ at: clock.now(), what: method });
      return null;
    },
    decorate: () => undefined,
    forget: () => undefined,
  };
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-ack' });
  const dialog = new SipDialog(new UasDialogState(invite, 'uas1', peer, 1), host, undefined as never, undefined, logger);
  const ended: string[] = [];
  dialog.on('terminated', (r: string) => void ended.push(r));
  const ok = createResponse(invite, 200, 'OK', 'uas1');
  const tx = { respond: (res: SipResponse) => void sent.push({ at: clock.now(), what: `tx:${res.status}` }) };
  return { clock, sent, dialog, ended, ok, tx, invite };
}

describe('2xx retransmission and BYE timing (RFC 3261 §13.3.1.4, RFC 6026)', () => {
  test('never ACKed over UDP: 2xx at T1 doubling capped at T2 until 64*T1, then BYE, and nothing after', () => {
    const { clock, sent, dialog, ended, ok, tx } = setup(UDP_PEER);
    const { T1, T2 } = DEFAULT_TIMERS;
    dialog.send2xx(tx, ok, 1, UDP_PEER, false);
    clock.advance(200_000);
    const expected: number[] = [];
    for (let at = T1, step = T1; at < 64 * T1; step = Math.min(step * 2, T2), at += step) expected.push(at);
    expect(expected.slice(0, 5)).toEqual([500, 1500, 3500, 7500, 11500]);
    expect(sent[0]).toEqual({ at: 0, what: 'tx:200' });
    expect(sent.filter((s) => s.what === '200').map((s) => s.at)).toEqual(expected);
    // "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK ... BYE".
    expect(sent.filter((s) => s.what === 'BYE').map((s) => s.at)).toEqual([64 * T1]);
    expect(sent.at(-1)).toEqual({ at: 64 * T1, what: 'BYE' });
    expect(ended).toEqual(['ack-timeout']);
    expect(clock.pending).toBe(0);
  });

  test('over TCP the 2xx is not retransmitted; BYE still comes at 64*T1 without ACK', () => {
    const { clock, sent, dialog, ended, ok, tx } = setup(TCP_PEER);
    dialog.send2xx(tx, ok, 1, TCP_PEER, false);
    clock.advance(200_000);
    expect(sent).toEqual([{ at: 0, what: 'tx:200' }, { at: 64 * DEFAULT_TIMERS.T1, what: 'BYE' }]);
    expect(ended).toEqual(['ack-timeout']);
  });

  test('an ACK stops the retransmissions and no BYE follows', () => {
    const { clock, sent, dialog, ended, ok, tx } = setup(UDP_PEER);
    dialog.send2xx(tx, ok, 1, UDP_PEER, false);
    clock.advance(4000);
    dialog.receiveAck(makeRequest('ACK', { branch: 'z9hG4bK-ack2', toTag: 'uas1' }), 1);
    clock.advance(200_000);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500]);
    expect(ended).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});

describe('§15: no BYE before the ACK of our 2xx', () => {
  test('a BYE asked for while the 2xx waits leaves on the ACK; the 2xx is retransmitted until then', async () => {
    const { clock, sent, dialog, ended, ok, tx } = setup(UDP_PEER);
    dialog.send2xx(tx, ok, 1, UDP_PEER, false);
    clock.advance(2000);
    let byeDone = false;
    const bye = dialog.bye().then(() => void (byeDone = true));
    clock.advance(6000);
    expect(sent.filter((s) => s.what === 'BYE')).toEqual([]);
    expect(sent.filter((s) => s.what === '200').map((s) => s.at)).toEqual([500, 1500, 3500, 7500]);
    expect(ended).toEqual([]);
    dialog.receiveAck(makeRequest('ACK', { branch: 'z9hG4bK-ack3', toTag: 'uas1' }), 1);
    await bye;
    expect(byeDone).toBe(true);
    expect(sent.filter((s) => s.what === 'BYE').map((s) => s.at)).toEqual([8000]);
    expect(ended).toEqual(['local-bye']);
    clock.advance(60_000);
    expect(sent.filter((s) => s.what === '200').length).toBe(4);
    expect(clock.pending).toBe(0);
  });

  test('never ACKed: the held BYE leaves at 64*T1, once', async () => {
    const { clock, sent, dialog, ended, ok, tx } = setup(UDP_PEER);
    dialog.send2xx(tx, ok, 1, UDP_PEER, false);
    clock.advance(1000);
    const bye = dialog.bye();
    clock.advance(200_000);
    await bye;
    expect(sent.filter((s) => s.what === 'BYE').map((s) => s.at)).toEqual([64 * DEFAULT_TIMERS.T1]);
    expect(ended).toEqual(['ack-timeout']);
  });

  test('process shutdown does not wait for the ACK', () => {
    const { clock, sent, dialog, ended, ok, tx } = setup(UDP_PEER);
    dialog.send2xx(tx, ok, 1, UDP_PEER, false);
    clock.advance(1000);
    void dialog.shutdown();
    expect(sent.filter((s) => s.what === 'BYE').map((s) => s.at)).toEqual([1000]);
    expect(ended).toEqual(['shutdown']);
    clock.advance(60_000);
    expect(sent.filter((s) => s.what === '200').length).toBe(1);
  });
});
