import { describe, expect, test } from '@jest/globals';
import pino from 'pino';
import { ManualClock } from '../../src/shared/clock.js';
import { createResponse } from '../../src/sip/response.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { MwiNotifier } from '../../src/mwi/mwi-notifier.js';
import type { Folder } from '../../src/store/schema.js';
import { makeRequest, UDP_PEER } from '../sip/transactions/helpers.js';

const logger = pino({ level: 'silent' });

interface Sent {
  at: number;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** A notifier on a ManualClock whose NOTIFYs are recorded and answered with `answer` (200 unless changed). */
function setup() {
  const clock = new ManualClock();
  const notifies: Sent[] = [];
  let answer = 200;
  const line = { deleted: false };
  const counts: Record<Folder, number> = { inbox: 0, old: 0, urgent: 0, work: 0, family: 0, friends: 0 };
  const ua = {
    clock,
    decorate: (res: SipResponse) => void res.headers.set('Contact', '<sip:repondeur@127.0.0.1:5060>'),
    sendInDialog: async (dialog: { callId: string }, method: string, extra: { headers?: Record<string, string>; body?: { data: Buffer } }) => {
      notifies.push({ at: clock.now(), method, headers: extra.headers ?? {}, body: extra.body?.data.toString() ?? '' });
      const req = makeRequest(method, { callId: dialog.callId });
      return createResponse(req, answer, 'x');
    },
  };
  const mwi = new MwiNotifier({
    ua,
    logger,
    accountHost: 'vm.example',
    options: { minExpires: 60, maxExpires: 3600, defaultExpires: 1800, coalesceMs: 0 },
    counts: async () => {
      if (line.deleted) throw new Error('line +33123 does not exist');
      return { ...counts };
    },
    lineOf: async (uri) => (uri.startsWith('sip:+33123@') ? '+33123' : undefined),
  });
  const subscribe = async (o: { expires?: string; event?: string; uri?: string; toTag?: string; seq?: number; accept?: string } = {}): Promise<SipResponse> => {
    const req: SipRequest = makeRequest('SUBSCRIBE', { uri: o.uri ?? 'sip:+33123@vm.example', ...(o.toTag ? { toTag: o.toTag } : {}), seq: o.seq ?? 1 });
    req.headers.append('Event', o.event ?? 'message-summary');
    req.headers.append('Contact', '<sip:phone@192.0.2.10:5060>');
    if (o.accept) req.headers.append('Accept', o.accept);
    if (o.expires !== undefined) req.headers.append('Expires', o.expires);
    return new Promise((resolve) => mwi.handleSubscribe(req, UDP_PEER, { respond: resolve }));
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { clock, notifies, counts, line, mwi, subscribe, settle, setAnswer: (s: number) => void (answer = s) };
}

const toTagOf = (res: SipResponse) => /tag=([^;>\s]+)/.exec(res.headers.get('To') ?? '')![1]!;

describe('SUBSCRIBE message-summary (RFC 6665 §4.2.1)', () => {
  test('other events get 489 with Allow-Events, unknown lines 404, too brief 423 with Min-Expires, bad Accept 406', async () => {
    const { subscribe, notifies } = setup();
    const r489 = await subscribe({ event: 'presence' });
    expect(r489.status).toBe(489);
    expect(r489.headers.get('Allow-Events')).toBe('message-summary');
    expect((await subscribe({ uri: 'sip:999@vm.example' })).status).toBe(404);
    const r423 = await subscribe({ expires: '10' });
    expect(r423.status).toBe(423);
    expect(r423.headers.get('Min-Expires')).toBe('60');
    expect((await subscribe({ accept: 'application/pidf+xml' })).status).toBe(406);
    expect(notifies).toHaveLength(0);
  });

  test('200 with To tag, Contact and bounded Expires, then an immediate NOTIFY with the counts', async () => {
    const { subscribe, notifies, settle } = setup();
    const ok = await subscribe({ expires: '99999', accept: 'application/simple-message-summary' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Expires')).toBe('3600');
    expect(ok.headers.get('Contact')).toContain('sip:repondeur@');
    expect(toTagOf(ok)).toMatch(/^[0-9a-f]+$/);
    await settle();
    expect(notifies).toHaveLength(1);
    expect(notifies[0]!.headers).toEqual({ Event: 'message-summary', 'Subscription-State': 'active;expires=3600' });
    expect(notifies[0]!.body).toContain('Messages-Waiting: no');
    expect(notifies[0]!.body).toContain('Message-Account: sip:+33123@vm.example');
    expect(notifies[0]!.body).toContain('Voice-Message: 0/0 (0/0)');
    const dflt = await subscribe({});
    expect(dflt.headers.get('Expires')).toBe('1800');
  });

  test('a mailbox change sends a NOTIFY with the new counts; a burst is one NOTIFY per change in flight at most', async () => {
    const { subscribe, notifies, settle, clock, counts, mwi } = setup();
    await subscribe({ expires: '600' });
    await settle();
    counts.inbox = 1;
    mwi.mailboxChanged('+33123');
    mwi.mailboxChanged('+33123');
    mwi.mailboxChanged('+33999');
    clock.advance(0); // the coalescing delay (coalesceMs: 0) on the manual clock
    await settle();
    expect(notifies).toHaveLength(2);
    expect(notifies[1]!.body).toContain('Messages-Waiting: yes');
    expect(notifies[1]!.body).toContain('Voice-Message: 1/0 (0/0)');
  });

  test('refresh extends, Expires: 0 ends with terminated;reason=timeout, then the dialog is gone (481)', async () => {
    const { subscribe, notifies, settle, clock, mwi } = setup();
    const ok = await subscribe({ expires: '600' });
    await settle();
    clock.advance(500_000);
    const tag = toTagOf(ok);
    const refreshed = await subscribe({ expires: '600', toTag: tag, seq: 2 });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('Expires')).toBe('600');
    await settle();
    expect(notifies[1]!.headers['Subscription-State']).toBe('active;expires=600');
    clock.advance(500_000); // past the first expiry, not the refreshed one
    await settle();
    expect(mwi.subscriptionCount).toBe(1);
    const bye = await subscribe({ expires: '0', toTag: tag, seq: 3 });
    expect(bye.status).toBe(200);
    await settle();
    expect(notifies.at(-1)!.headers['Subscription-State']).toBe('terminated;reason=timeout');
    expect(mwi.subscriptionCount).toBe(0);
    expect((await subscribe({ expires: '600', toTag: tag, seq: 4 })).status).toBe(481);
  });

  test('expiry sends terminated;reason=timeout at the granted time', async () => {
    const { subscribe, notifies, settle, clock, mwi } = setup();
    await subscribe({ expires: '120' });
    await settle();
    clock.advance(119_999);
    await settle();
    expect(notifies).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(notifies).toHaveLength(2);
    expect(notifies[1]!.at).toBe(120_000);
    expect(notifies[1]!.headers['Subscription-State']).toBe('terminated;reason=timeout');
    expect(mwi.subscriptionCount).toBe(0);
  });

  test('a 481 to a NOTIFY ends the subscription; shutdown sends terminated;reason=deactivated', async () => {
    const { subscribe, notifies, settle, clock, mwi, setAnswer } = setup();
    await subscribe({ expires: '600' });
    await settle();
    setAnswer(481);
    mwi.mailboxChanged('+33123');
    clock.advance(0); // the coalescing delay (coalesceMs: 0) on the manual clock
    await settle();
    expect(mwi.subscriptionCount).toBe(0);
    const before = notifies.length;
    mwi.mailboxChanged('+33123');
    clock.advance(0); // the coalescing delay (coalesceMs: 0) on the manual clock
    expect(notifies).toHaveLength(before);

    setAnswer(200);
    await subscribe({ expires: '600', seq: 7 });
    await settle();
    await mwi.close();
    expect(notifies.at(-1)!.headers['Subscription-State']).toBe('terminated;reason=deactivated');
    expect(mwi.subscriptionCount).toBe(0);
  });

  test('the line gone: final NOTIFY terminated;reason=noresource without a body', async () => {
    const { subscribe, notifies, settle, clock, mwi, line } = setup();
    await subscribe({ expires: '600' });
    await settle();
    line.deleted = true;
    mwi.mailboxChanged('+33123');
    clock.advance(0); // the coalescing delay (coalesceMs: 0) on the manual clock
    await settle();
    expect(notifies.at(-1)!.headers['Subscription-State']).toBe('terminated;reason=noresource');
    expect(notifies.at(-1)!.body).toBe('');
    expect(mwi.subscriptionCount).toBe(0);
  });
});
