import { describe, expect, test } from '@jest/globals';
import pino from 'pino';
import { ManualClock } from '../../src/shared/clock.js';
import { createResponse } from '../../src/sip/response.js';
import type { Peer, SipResponse } from '../../src/sip/message.js';
import { MwiNotifier } from '../../src/mwi/mwi-notifier.js';
import { UnsolicitedMwi, unsolicitedNotifyTotals } from '../../src/mwi/unsolicited-mwi.js';
import type { Folder } from '../../src/store/schema.js';
import { makeRequest, UDP_PEER } from '../sip/transactions/helpers.js';

const logger = pino({ level: 'silent' });
const zero = (): Record<Folder, number> => ({ inbox: 0, old: 0, urgent: 0, work: 0, family: 0, friends: 0 });

function notifier(trustedSources: string[]) {
  const ua = {
    clock: new ManualClock(),
    decorate: (res: SipResponse) => void res.headers.set('Contact', '<sip:repondeur@127.0.0.1:5060>'),
    sendInDialog: async () => null,
  };
  return new MwiNotifier({
    ua,
    logger,
    accountHost: 'vm.example',
    options: { minExpires: 60, maxExpires: 3600, defaultExpires: 1800, coalesceMs: 0, trustedSources },
    counts: async () => zero(),
    lineOf: async () => '+33123',
  });
}

const from = (address: string): Peer => ({ ...UDP_PEER, address });

describe('mwi.trustedSources', () => {
  test('listed: SUBSCRIBE from others gets 403; REGISTER from a listed source 200 with the contacts echoed, others not handled', async () => {
    const mwi = notifier(['192.0.2.7']);
    const sub = makeRequest('SUBSCRIBE', { uri: 'sip:+33123@vm.example' });
    sub.headers.append('Event', 'message-summary');
    const refused = await new Promise<SipResponse>((resolve) => mwi.handleSubscribe(sub, from('198.51.100.1'), { respond: resolve }));
    expect(refused.status).toBe(403);

    const reg = makeRequest('REGISTER', { uri: 'sip:vm.example' });
    reg.headers.append('Contact', '<sip:phone@192.0.2.7:5060>;expires=99999, <sip:gone@192.0.2.7>;expires=0');
    reg.headers.append('Expires', '600');
    expect(mwi.handleRegister(reg, from('198.51.100.1'), { respond: () => undefined })).toBe(false);
    let answer: SipResponse | undefined;
    expect(mwi.handleRegister(reg, from('192.0.2.7'), { respond: (r) => void (answer = r) })).toBe(true);
    expect(answer!.status).toBe(200);
    expect(answer!.headers.getAll('Contact')).toEqual(['<sip:phone@192.0.2.7:5060>;expires=3600']);
  });

  test('empty (default): any source may SUBSCRIBE, REGISTER is not handled (the UA answers 405)', async () => {
    const mwi = notifier([]);
    const sub = makeRequest('SUBSCRIBE', { uri: 'sip:+33123@vm.example' });
    sub.headers.append('Event', 'message-summary');
    const ok = await new Promise<SipResponse>((resolve) => mwi.handleSubscribe(sub, from('198.51.100.1'), { respond: resolve }));
    expect(ok.status).toBe(200);
    expect(mwi.handleRegister(makeRequest('REGISTER', { uri: 'sip:vm.example' }), from('198.51.100.1'), { respond: () => undefined })).toBe(false);
    await mwi.close();
  });
});

describe('UnsolicitedMwi', () => {
  test('one NOTIFY per burst and contact, the latest counts, failures counted and never thrown', async () => {
    const sent: Array<{ uri: string; headers: Record<string, string>; body: string }> = [];
    const counts = zero();
    let answers: Array<number | null> = [];
    const mwi = new UnsolicitedMwi({
      logger,
      accountHost: 'vm.example',
      coalesceMs: 5,
      contacts: async (line) => (line === undefined || line === '+33123' ? ['sip:a@192.0.2.1', 'sip:b@192.0.2.2'].map((uri) => ({ line: '+33123', uri, createdAt: 0 })) : []),
      counts: async () => ({ ...counts }),
      ua: {
        sendOutOfDialog: async (method, uri, extra) => {
          sent.push({ uri, headers: { ...extra.headers, From: extra.from }, body: extra.body!.data.toString() });
          const status = answers.length > 0 ? (answers.shift() as number | null) : 200;
          return status === null ? null : createResponse(makeRequest(method, {}), status, 'x');
        },
      },
    });
    const before = { ...unsolicitedNotifyTotals };
    await mwi.start();
    await until(() => sent.length === 2);
    expect(sent.map((s) => s.uri).sort()).toEqual(['sip:a@192.0.2.1', 'sip:b@192.0.2.2']);
    expect(sent[0]!.headers).toMatchObject({ Event: 'message-summary', 'Subscription-State': 'active', From: 'sip:+33123@vm.example' });
    expect(sent[0]!.body).toContain('Voice-Message: 0/0 (0/0)');

    answers = [null, 486];
    counts.inbox = 2;
    for (let i = 0; i < 5; i++) mwi.mailboxChanged('+33123');
    mwi.mailboxChanged('+33999');
    await until(() => sent.length === 4);
    await new Promise((r) => setTimeout(r, 30));
    expect(sent).toHaveLength(4);
    expect(sent.slice(2).every((s) => s.body.includes('Messages-Waiting: yes') && s.body.includes('Voice-Message: 2/0'))).toBe(true);
    expect(unsolicitedNotifyTotals.accepted - before.accepted).toBe(2);
    expect(unsolicitedNotifyTotals.failed - before.failed).toBe(1);
    expect(unsolicitedNotifyTotals.rejected - before.rejected).toBe(1);
    await mwi.close();
  });
});

async function until(predicate: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}
