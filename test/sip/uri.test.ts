import { describe, expect, test } from '@jest/globals';
import { formatUri, parseUri, SipParseError } from '../../src/sip/uri.js';

describe('parseUri', () => {
  test('full SIP URI', () => {
    const u = parseUri('sips:alice:secret@atlanta.example.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent');
    expect(u).toEqual({
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'atlanta.example.com',
      port: 5061,
      params: new Map([['transport', 'tcp'], ['lr', null]]),
      headers: new Map([['subject', 'project x'], ['priority', 'urgent']]),
    });
  });

  test('IPv6 reference and no user', () => {
    expect(parseUri('sip:[2001:db8::10]:5070')).toMatchObject({ host: '2001:db8::10', port: 5070 });
    expect(formatUri(parseUri('sip:[2001:db8::10]:5070'))).toBe('sip:[2001:db8::10]:5070');
  });

  test('escaped characters are decoded, user may contain ; and ?', () => {
    const u = parseUri('sip:sips%3Auser%40example.com@example.net');
    expect(u.user).toBe('sips:user@example.com');
    expect(u.host).toBe('example.net');
    expect(parseUri('sip:user;par=u%40example.net@example.com')).toMatchObject({ user: 'user;par=u@example.net', host: 'example.com' });
    expect(parseUri('sip:%61lice@example.com').user).toBe('alice');
  });

  test('tel URIs', () => {
    expect(parseUri('tel:+33-1-23-45-67-89')).toMatchObject({ scheme: 'tel', user: '+33-1-23-45-67-89', host: '' });
    const local = parseUri('tel:7042;phone-context=example.com');
    expect(local.params.get('phone-context')).toBe('example.com');
    expect(formatUri(local)).toBe('tel:7042;phone-context=example.com');
  });

  test.each([
    'sip:alice@example.com',
    'sip:alice@192.0.2.4:5060;transport=udp',
    'sips:bob:pw@example.com;maddr=239.255.255.1?to=alice%40example.com',
    'sip:%23100@example.com;user=phone',
    'SIP:Alice@Example.COM'.replace('SIP', 'sip'),
  ])('round-trips %p', (s) => {
    expect(formatUri(parseUri(s))).toBe(s);
  });

  test('scheme is case-insensitive', () => {
    expect(parseUri('SIP:a@b').scheme).toBe('sip');
  });

  test.each([
    'http://example.com',
    'sip:',
    'sip:a@',
    'sip:a@b@c',
    'sip:a@b:port',
    'sip:a@b:70000',
    'sip:a b@c',
    'sip:a%zz@b',
    'sip:a@b?nokey',
    'sip:a@[::1',
    'tel:abc-xyz',
    'sip:a@exa%mple.com',
  ])('rejects %p', (s) => {
    expect(() => parseUri(s)).toThrow(SipParseError);
  });
});

describe('formatUri', () => {
  test('escapes characters not allowed in each part', () => {
    const s = formatUri({
      scheme: 'sip', user: 'a b@c', host: 'example.com',
      params: new Map([['x', 'v;w']]), headers: new Map([['Subject', 'hi there&more']]),
    });
    expect(s).toBe('sip:a%20b%40c@example.com;x=v%3Bw?Subject=hi%20there%26more');
    expect(parseUri(s)).toMatchObject({ user: 'a b@c', params: new Map([['x', 'v;w']]), headers: new Map([['Subject', 'hi there&more']]) });
  });
});
