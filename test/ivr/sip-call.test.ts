/**
 * SipCall's digit deadlines on a manual clock: the first-digit and inter-digit time-outs are exact, without
 * waiting for them in real time. The dialog and the RTP session are stand-ins emitting what the real ones emit
 * (DTMF events, termination); the call flows over real sockets are covered by the deposit and dial-in suites.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, test } from '@jest/globals';
import pino from 'pino';
import { SipCall } from '../../src/ivr/sip-call.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { SipDialog } from '../../src/sip/sip-dialog.js';
import type { MediaSession } from '../../src/media/index.js';

function setup() {
  const clock = new ManualClock();
  const dialog = Object.assign(new EventEmitter(), { callId: 'c1@test', bye: async () => void dialog.emit('terminated', 'bye') });
  const session = Object.assign(new EventEmitter(), { fillPauses: () => undefined });
  const call = new SipCall(dialog as unknown as SipDialog, session as unknown as MediaSession, pino({ level: 'silent' }), clock);
  const press = (digit: string) => session.emit('dtmf', { digit, source: 'rfc4733' });
  /** Lets the call's promise callbacks run, as the event loop would between two timer ticks. */
  const settle = () => new Promise((r) => setImmediate(r));
  return { clock, dialog, call, press, settle };
}

const opts = { maxDigits: 4, terminator: '#', firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000 };

describe('SipCall.collect on a manual clock', () => {
  test('no key: resolves with nothing at the first-digit time-out, not a millisecond before', async () => {
    const { clock, call, settle } = setup();
    let got: string | null | undefined;
    void call.collect(opts).then((d) => (got = d));
    await settle();
    clock.advance(4999);
    await settle();
    expect(got).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(got).toBe('');
  });

  test('each key restarts the inter-digit time-out; the terminator ends at once', async () => {
    const { clock, call, press, settle } = setup();
    let got: string | null | undefined;
    void call.collect(opts).then((d) => (got = d));
    await settle();
    clock.advance(4000);
    press('1');
    await settle();
    clock.advance(2999);
    press('2');
    await settle();
    clock.advance(2999);
    await settle();
    expect(got).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(got).toBe('12');

    let again: string | null | undefined;
    void call.collect(opts).then((d) => (again = d));
    press('7');
    press('#');
    await settle();
    expect(again).toBe('7');
    expect(clock.pending).toBe(0);
  });

  test('a hang-up during the wait resolves null and leaves no timer armed', async () => {
    const { clock, dialog, call, settle } = setup();
    let got: string | null | undefined;
    void call.collect(opts).then((d) => (got = d));
    await settle();
    dialog.emit('terminated', 'bye');
    await settle();
    expect(got).toBeNull();
    expect(call.ended).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
