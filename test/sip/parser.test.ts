import { describe, expect, test } from '@jest/globals';
import { parseMessage, SipParseError } from '../../src/sip/parser.js';
import type { SipRequest } from '../../src/sip/message.js';
import { getTag, parseNameAddr, parseVia } from '../../src/sip/headers.js';

const crlf = (lines: string[], body = ''): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');

const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'From: Alice <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
];

function invite(extra: string[] = [], body = '', base = BASE): Buffer {
  return crlf(['INVITE sip:bob@example.com SIP/2.0', ...base, ...extra], body);
}

function parseError(buf: Buffer, limits?: Parameters<typeof parseMessage>[1]): SipParseError {
  try {
    parseMessage(buf, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(SipParseError);
    return e as SipParseError;
  }
  throw new Error('expected a SipParseError');
}

describe('parseMessage: start lines and bodies', () => {
  test('parses a request with body sized by Content-Length', () => {
    const msg = parseMessage(invite(['Content-Type: application/sdp', 'Content-Length: 4'], 'v=0\n'));
    expect(msg.kind).toBe('request');
    const req = msg as SipRequest;
    expect(req.method).toBe('INVITE');
    expect(req.uri).toBe('sip:bob@example.com');
    expect(req.headers.get('call-id')).toBe('a84b4c76e66710@pc33.example.com');
    expect(req.body.toString()).toBe('v=0\n');
  });

  test('parses a response, including an empty reason phrase', () => {
    const res = parseMessage(crlf(['SIP/2.0 180 Ringing', ...BASE, 'Content-Length: 0']));
    expect(res).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing' });
    const empty = parseMessage(crlf(['SIP/2.0 200', ...BASE]));
    expect(empty).toMatchObject({ kind: 'response', status: 200, reason: '' });
  });

  test('UDP: bytes beyond Content-Length are discarded, missing Content-Length takes the rest', () => {
    expect(parseMessage(invite(['Content-Length: 3'], 'abcdef')).body.toString()).toBe('abc');
    expect(parseMessage(invite([], 'abcdef')).body.toString()).toBe('abcdef');
  });

  test('clerr: Content-Length larger than the datagram is an error with a partial request', () => {
    const err = parseError(invite(['Content-Length: 9999'], 'short'));
    expect(err.status).toBe(400);
    expect(err.reason).toMatch(/Content-Length/);
    expect(err.partial?.method).toBe('INVITE');
  });

  test('ncl: negative Content-Length is rejected', () => {
    expect(parseError(invite(['Content-Length: -999'])).reason).toBe('Invalid Content-Length');
  });

  test('badvers: another SIP version gives 505 and still a partial request', () => {
    const buf = crlf(['OPTIONS sip:t.watson@example.org SIP/7.0', ...BASE.slice(0, 5), 'CSeq: 1 OPTIONS']);
    const err = parseError(buf);
    expect(err.status).toBe(505);
    expect(err.reason).toBe('Version Not Supported');
    expect(err.partial?.method).toBe('OPTIONS');
  });

  test('version is case-insensitive', () => {
    expect(parseMessage(crlf(['INVITE sip:bob@example.com sip/2.0', ...BASE])).kind).toBe('request');
  });

  test('garbage and an empty buffer are errors without partial', () => {
    expect(parseError(Buffer.from('\x00\x01hello')).partial).toBeUndefined();
    expect(parseError(Buffer.from('\r\n\r\n')).reason).toBe('Empty message');
  });

  test('ltgtruri / lwsruri: a Request-URI in <> or with spaces is rejected', () => {
    expect(parseError(crlf(['INVITE <sip:bob@example.com> SIP/2.0', ...BASE])).reason).toBe('Malformed Request-URI');
    expect(parseError(crlf(['INVITE sip:bob@example.com; lr SIP/2.0', ...BASE])).reason).toMatch(/Malformed start line|Request/);
  });

  test('leading CRLFs before the start line are ignored (§7.5)', () => {
    const buf = Buffer.concat([Buffer.from('\r\n\r\n'), invite()]);
    expect(parseMessage(buf).kind).toBe('request');
  });

  test('LF-only line endings are tolerated', () => {
    const buf = Buffer.from(`INVITE sip:bob@example.com SIP/2.0\n${BASE.join('\n')}\nContent-Length: 2\n\nhi`);
    expect(parseMessage(buf).body.toString()).toBe('hi');
  });
});

describe('parseMessage: header fields', () => {
  test('wsinv-like: folding, LWS around colons, compact and mixed case names, leading zeros', () => {
    const buf = crlf([
      'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
      'TO :',
      ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
      'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
      '  ;',
      '  tag = 98asjd8',
      'MaX-fOrWaRdS: 0068',
      'Call-ID: wsinv.ndaksdj@192.0.2.1',
      'cseq: 0009',
      '  INVITE',
      'Via  : SIP  /   2.0',
      ' /UDP',
      '    192.0.2.2;branch=390skdjuw',
      's :',
      'NewFangledHeader:   newfangled value',
      ' continued newfangled value',
      'UnknownHeaderWithUnusualValue: ;;,,;;,;',
      'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
      '  branch  =   z9hG4bK9ikj8  ,',
      ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
      ' z9hG4bK30239',
      'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
      '      newvalue ;',
      '  secondparam ; q = 0.33',
      'l: 0',
    ]);
    const req = parseMessage(buf) as SipRequest;
    expect(req.headers.get('To')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
    expect(req.headers.get('From')).toBe('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8');
    expect(getTag(req.headers.get('To')!)).toBe('1918181833n');
    expect(parseNameAddr(req.headers.get('From')!)).toMatchObject({ displayName: 'J Rosenberg \\"', uri: 'sip:jdrosen@example.com' });
    expect(parseVia(req.headers.getAll('Via')[2]!)).toMatchObject({ transport: 'UDP', host: '192.168.255.111', branch: 'z9hG4bK30239' });
    expect(req.headers.get('CSeq')).toBe('0009 INVITE');
    expect(req.headers.get('Subject')).toBe('');
    expect(req.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(req.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(req.headers.getAll('Via')).toEqual([
      'SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw',
      'SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8',
      'SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239',
    ]);
    expect(req.headers.getAll('Contact')).toHaveLength(1);
  });

  test('compact forms expand to canonical names', () => {
    const buf = crlf([
      'INVITE sip:bob@example.com SIP/2.0',
      'v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa',
      't: <sip:bob@example.com>', 'f: <sip:alice@example.com>;tag=1', 'i: abc@x', 'CSeq: 1 INVITE',
      'm: <sip:alice@192.0.2.10>', 'c: application/sdp', 'k: timer', 'r: <sip:carol@example.com>',
      'b: <sip:alice@example.com>', 'x: 1800', 'o: refer', 'u: talk', 'e: gzip', 's: hi', 'l: 0',
    ]);
    const h = (parseMessage(buf) as SipRequest).headers;
    const names = h.entries().map(([n]) => n);
    expect(names).toEqual([
      'Via', 'To', 'From', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Supported', 'Refer-To', 'Referred-By',
      'Session-Expires', 'Event', 'Allow-Events', 'Content-Encoding', 'Subject', 'Content-Length',
    ]);
  });

  test('list headers split on top-level commas only; others keep their commas', () => {
    // A REGISTER: a request that can create a dialog must carry exactly one Contact URI (§8.1.1.8, below).
    const register = (lines: string[]): Buffer => crlf(['REGISTER sip:example.com SIP/2.0', ...BASE.slice(0, 5), 'CSeq: 2 REGISTER', ...lines]);
    const req = parseMessage(register([
      'Contact: "Doe, John" <sip:john@a.example.com;x=1,2>;q=0.5, <sip:john@b.example.com>',
      'Allow: INVITE,ACK , BYE',
      'Record-Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>',
      'WWW-Authenticate: Digest realm="a, b", nonce="x"',
      'Date: Sat, 13 Nov 2010 23:29:00 GMT',
      'Contact: <sip:third@c.example.com>',
    ])) as SipRequest;
    expect(req.headers.getAll('Contact')).toEqual([
      '"Doe, John" <sip:john@a.example.com;x=1,2>;q=0.5',
      '<sip:john@b.example.com>',
      '<sip:third@c.example.com>',
    ]);
    expect(req.headers.getAll('Allow')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(req.headers.getAll('Record-Route')).toHaveLength(2);
    expect(req.headers.get('WWW-Authenticate')).toBe('Digest realm="a, b", nonce="x"');
    expect(req.headers.get('Date')).toBe('Sat, 13 Nov 2010 23:29:00 GMT');
  });

  test('§8.1.1.8: an INVITE with more than one Contact URI is refused (400), one is fine', () => {
    expect(() => parseMessage(invite(['Contact: <sip:a@a.example.com>, <sip:b@b.example.com>']))).toThrow(/Contact must hold exactly one URI/);
    expect(() => parseMessage(invite(['Contact: <sip:a@a.example.com>', 'Contact: <sip:b@b.example.com>']))).toThrow(/Contact must hold exactly one URI/);
    expect((parseMessage(invite(['Contact: <sip:a@a.example.com>'])) as SipRequest).headers.getAll('Contact')).toHaveLength(1);
  });

  test('Contact: * is kept as is', () => {
    const buf = crlf(['REGISTER sip:example.com SIP/2.0', ...BASE.slice(0, 5), 'CSeq: 2 REGISTER', 'Contact: *', 'Expires: 0']);
    expect((parseMessage(buf) as SipRequest).headers.getAll('Contact')).toEqual(['*']);
  });

  test.each(['From', 'To', 'Call-ID', 'CSeq'])('missing %s is an error naming it, still answerable from its Via', (name) => {
    const base = BASE.filter((l) => !l.startsWith(`${name}:`));
    const err = parseError(invite([], '', base));
    expect(err.reason).toBe(`Missing ${name} header`);
    expect(err.status).toBe(400);
    expect(err.partial?.headers.getAll('Via')).toHaveLength(1);
    expect(err.partial?.headers.has(name)).toBe(false);
  });

  test('missing Via is an error with no partial: a response could not be routed', () => {
    const err = parseError(invite([], '', BASE.filter((l) => !l.startsWith('Via:'))));
    expect(err.reason).toBe('Missing Via header');
    expect(err.partial).toBeUndefined();
  });

  test('missing Max-Forwards is tolerated', () => {
    expect(parseMessage(invite([], '', BASE.filter((l) => !l.startsWith('Max-Forwards')))).kind).toBe('request');
  });

  test('mismatch01: CSeq method differing from the request method is a 400 with partial', () => {
    const err = parseError(crlf(['OPTIONS sip:user@example.com SIP/2.0', ...BASE]));
    expect(err.status).toBe(400);
    expect(err.reason).toMatch(/CSeq.*method/);
    expect(err.partial?.method).toBe('OPTIONS');
  });

  test('scalar02: huge CSeq and Max-Forwards are rejected', () => {
    const bigCseq = BASE.map((l) => (l.startsWith('CSeq') ? 'CSeq: 36893488147419103232 INVITE' : l));
    expect(parseError(invite([], '', bigCseq)).reason).toMatch(/CSeq/);
    const cseq2e31 = BASE.map((l) => (l.startsWith('CSeq') ? `CSeq: ${2 ** 31} INVITE` : l));
    expect(parseError(invite([], '', cseq2e31)).reason).toMatch(/CSeq number too large/);
    const bigMf = BASE.map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 300' : l));
    expect(parseError(invite([], '', bigMf)).reason).toBe('Invalid Max-Forwards');
  });

  test('malformed Via and From are errors; a bad top Via still leaves a partial (answered to the source)', () => {
    const badVia = BASE.map((l) => (l.startsWith('Via') ? 'Via: SIP/2.0/UDP' : l));
    const e1 = parseError(invite([], '', badVia));
    expect(e1.reason).toMatch(/^Malformed Via/);
    expect(e1.partial?.headers.get('Via')).toBe('SIP/2.0/UDP');
    const badFrom = BASE.map((l) => (l.startsWith('From') ? 'From: "unterminated <sip:a@b>' : l));
    const e2 = parseError(invite([], '', badFrom));
    expect(e2.reason).toMatch(/^Malformed From/);
    expect(e2.partial).toBeDefined();
  });

  test('multi01 / mcl01: duplicated single-value headers are rejected', () => {
    expect(parseError(invite(['Call-ID: other@x'])).reason).toBe('Multiple Call-ID headers');
    expect(parseError(invite(['Content-Length: 0', 'l: 0'])).reason).toBe('Multiple Content-Length headers');
  });

  test('a header line without a colon is an error', () => {
    expect(parseError(invite(['This is not a header'])).reason).toMatch(/^Malformed header line/);
  });

  test('escaped and unusual Request-URIs parse', () => {
    const buf = crlf(['INVITE sip:sips%3Auser%40example.com@example.net;lr SIP/2.0', ...BASE]);
    expect((parseMessage(buf) as SipRequest).uri).toBe('sip:sips%3Auser%40example.com@example.net;lr');
    // §19.1.1: headers are not allowed in a Request-URI (RFC 4475 escruri).
    expect(parseError(crlf(['INVITE sip:user@example.net;lr?Subject=x SIP/2.0', ...BASE])).reason).toMatch(/Malformed Request-URI: headers not allowed/);
    const bad = crlf(['INVITE sip:user@exa%zzmple.com SIP/2.0', ...BASE]);
    expect(parseError(bad).reason).toMatch(/Malformed Request-URI/);
  });
});

describe('parseMessage: limits', () => {
  test('message larger than maxMessageBytes gives 513 with partial', () => {
    const err = parseError(invite(['Content-Length: 2000'], 'x'.repeat(2000)), { maxMessageBytes: 1500 });
    expect(err.status).toBe(513);
    expect(err.reason).toBe('Message Too Large');
    expect(err.partial?.method).toBe('INVITE');
  });

  test('too many headers and overlong lines are errors', () => {
    const many = Array.from({ length: 20 }, (_, i) => `X-H${i}: ${i}`);
    expect(parseError(invite(many), { maxHeaders: 16 }).reason).toBe('Too Many Headers');
    expect(parseError(invite([`X-Long: ${'a'.repeat(9000)}`])).reason).toBe('Header Line Too Long');
  });
});
