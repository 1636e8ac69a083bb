import { describe, expect, test } from '@jest/globals';
import {
  formatCSeq, formatNameAddr, formatParams, formatVia, getTag, parseCSeq, parseNameAddr, parseParams, parseVia,
  SipParseError, splitTopLevel,
} from '../../src/sip/headers.js';

describe('Via', () => {
  test('parses transport, sent-by, branch, received and rport', () => {
    const via = parseVia('SIP/2.0/udp pc33.example.com:5066;branch=z9hG4bK776;received=192.0.2.4;rport=40000;x');
    expect(via).toMatchObject({ transport: 'UDP', host: 'pc33.example.com', port: 5066, branch: 'z9hG4bK776', received: '192.0.2.4', rport: 40000 });
    expect(via.params.get('x')).toBeNull();
  });

  test('bare rport is true, IPv6 sent-by loses its brackets', () => {
    const via = parseVia('SIP/2.0/TCP [2001:db8::9]:5061;rport;branch=z9hG4bKx');
    expect(via).toMatchObject({ transport: 'TCP', host: '2001:db8::9', port: 5061, rport: true });
    expect(formatVia(via)).toBe('SIP/2.0/TCP [2001:db8::9]:5061;rport;branch=z9hG4bKx');
  });

  test('formatVia writes typed fields over params, keeping order', () => {
    const via = parseVia('SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKa');
    via.rport = 5070;
    via.received = '198.51.100.7';
    expect(formatVia(via)).toBe('SIP/2.0/UDP 10.0.0.1;rport=5070;branch=z9hG4bKa;received=198.51.100.7');
    delete via.received;
    expect(formatVia(via)).toBe('SIP/2.0/UDP 10.0.0.1;rport=5070;branch=z9hG4bKa');
  });

  test('round-trips a canonical Via', () => {
    const s = 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8;received=192.0.2.207';
    expect(formatVia(parseVia(s))).toBe(s);
  });

  test.each([
    'SIP/2.0/UDP',
    'SIP/3.0/UDP host',
    'SIP/2.0/UDP host:99999',
    'SIP/2.0/UDP host:abc',
    'SIP/2.0/UDP [::1',
    'SIP/2.0/UDP host;branch',
    'SIP/2.0/UDP host;rport=x',
    'SIP/2.0/UDP ho st',
    'SIP/2.0/UDP host;;branch=a',
  ])('rejects %p', (v) => {
    expect(() => parseVia(v)).toThrow(SipParseError);
  });
});

describe('name-addr', () => {
  test('quoted display name with escapes and header params', () => {
    const na = parseNameAddr('"Doe, \\"Jo\\"" <sip:jo@example.com;transport=tcp>;tag=abc;expires=60');
    expect(na).toEqual({
      displayName: 'Doe, "Jo"',
      uri: 'sip:jo@example.com;transport=tcp',
      params: new Map([['tag', 'abc'], ['expires', '60']]),
    });
    expect(formatNameAddr(na)).toBe('"Doe, \\"Jo\\"" <sip:jo@example.com;transport=tcp>;tag=abc;expires=60');
  });

  test('lwsdisp: unquoted display name without space before <', () => {
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323')).toMatchObject({ displayName: 'caller', uri: 'sip:caller@example.com' });
    expect(parseNameAddr('Alice  Smith <sip:a@example.com>').displayName).toBe('Alice Smith');
  });

  test('bare addr-spec: parameters belong to the header (§20.10)', () => {
    const na = parseNameAddr('sip:bob@example.com;tag=x;user=phone');
    expect(na.uri).toBe('sip:bob@example.com');
    expect([...na.params]).toEqual([['tag', 'x'], ['user', 'phone']]);
    expect(formatNameAddr(na)).toBe('<sip:bob@example.com>;tag=x;user=phone');
  });

  test('<uri> only', () => {
    expect(parseNameAddr('<sip:a@b>')).toEqual({ uri: 'sip:a@b', params: new Map() });
  });

  test('getTag', () => {
    expect(getTag('<sip:a@b>;TAG=Xy12')).toBe('Xy12');
    expect(getTag('"x" <sip:a@b;tag=inuri>')).toBeUndefined();
  });

  test.each([
    '"unterminated <sip:a@b>',
    '"x" sip:a@b',
    '<sip:a@b',
    '<sip:a@b> junk',
    '<notauri>',
    'bad name, <sip:a@b>',
    '',
    '<sip:a@b>;tag=',
  ])('rejects %p', (v) => {
    expect(() => parseNameAddr(v)).toThrow(SipParseError);
  });
});

describe('CSeq and params', () => {
  test('parses and formats CSeq', () => {
    expect(parseCSeq('0009 \t INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(formatCSeq({ seq: 2 ** 31 - 1, method: 'BYE' })).toBe('2147483647 BYE');
    expect(parseCSeq(`${2 ** 31 - 1} BYE`).seq).toBe(2 ** 31 - 1);
  });

  test.each(['', 'INVITE', '1', '-1 INVITE', `${2 ** 31} INVITE`, '1 INV ITE', '36893488147419103232 INVITE'])('rejects CSeq %p', (v) => {
    expect(() => parseCSeq(v)).toThrow(SipParseError);
  });

  test('parseParams handles whitespace, quoted values with ; and flags', () => {
    const p = parseParams(' ; a = 1 ; B ; c="x;y" ');
    expect([...p]).toEqual([['a', '1'], ['b', null], ['c', '"x;y"']]);
    expect(formatParams(p)).toBe(';a=1;b;c="x;y"');
  });

  test('splitTopLevel respects quotes and angle brackets', () => {
    expect(splitTopLevel('"a,b" <sip:x;p=1,2>, <sip:y>', ',')).toEqual(['"a,b" <sip:x;p=1,2>', '<sip:y>']);
    expect(() => splitTopLevel('"open, x', ',')).toThrow(SipParseError);
  });
});
