import { describe, expect, test } from '@jest/globals';
import { getTag } from '../../../src/sip/headers.js';
import { cseqOf, hasMagicCookie, newBranch, parseTopVia, TransactionKeyError } from '../../../src/sip/transactions/keys.js';
import { makeRequest } from './helpers.js';

describe('transaction keys', () => {
  test('top Via: transport, sent-by (host lower-cased) and branch', () => {
    const v = parseTopVia(makeRequest('INVITE', { via: 'SIP / 2.0 / udp PC33.Example.COM:5066 ; rport ; Branch=z9hG4bKabc' }));
    expect(v).toMatchObject({ transport: 'UDP', sentBy: 'pc33.example.com:5066', branch: 'z9hG4bKabc' });
    expect(parseTopVia(makeRequest('INVITE', { via: 'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKx' })).sentBy).toBe('[2001:db8::1]:5060');
    expect(parseTopVia(makeRequest('INVITE', { via: 'SIP/2.0/UDP host' })).branch).toBeUndefined();
    expect(() => parseTopVia(makeRequest('INVITE', { via: 'SIP/2.0/UDP' }))).toThrow(TransactionKeyError);
  });

  test('only the first Via counts', () => {
    const req = makeRequest('INVITE', { branch: 'z9hG4bK-top' });
    req.headers.append('Via', 'SIP/2.0/UDP proxy;branch=z9hG4bK-below');
    expect(parseTopVia(req).branch).toBe('z9hG4bK-top');
  });

  test('CSeq', () => {
    expect(cseqOf(makeRequest('BYE', { seq: 42 }))).toEqual({ seq: 42, method: 'BYE' });
    const bad = makeRequest('BYE');
    bad.headers.set('CSeq', 'x BYE');
    expect(() => cseqOf(bad)).toThrow(/malformed CSeq/);
    expect(() => cseqOf(bad)).toThrow(TransactionKeyError);
    bad.headers.set('CSeq', `${2 ** 31} BYE`);
    expect(() => cseqOf(bad)).toThrow(/malformed CSeq/);
    bad.headers.delete('CSeq');
    expect(() => cseqOf(bad)).toThrow(/missing CSeq/);
  });

  test('tag of From/To ignores URI parameters and quoted display names', () => {
    expect(getTag('<sip:a@b;tag=uri>;tag=real')).toBe('real');
    expect(getTag('"x <y>;tag=no" <sip:a@b>;tag=yes')).toBe('yes');
    expect(getTag('sip:a@b;tag=plain')).toBe('plain');
    expect(getTag('<sip:a@b;tag=uri>')).toBeUndefined();
    expect(getTag('sip:a@b')).toBeUndefined();
    expect(getTag(undefined)).toBeUndefined();
  });

  test('newBranch carries the magic cookie and is fresh', () => {
    const a = newBranch();
    expect(a).toMatch(/^z9hG4bK[0-9a-f]{20}$/);
    expect(newBranch()).not.toBe(a);
    expect(hasMagicCookie(a)).toBe(true);
    expect(hasMagicCookie('z9hG4bK')).toBe(false);
    expect(hasMagicCookie('1234')).toBe(false);
  });
});
