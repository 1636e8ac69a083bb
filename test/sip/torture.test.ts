/**
 * RFC 4475 (SIP torture tests) and RFC 5118 (IPv6 torture tests), one test per message of
 * test/fixtures/torture/<name>.sip: what the parser makes of it. The same files go over real UDP to a running
 * server in test/sip/torture-udp.test.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNameAddr, parseUri, parseVia } from '../../src/sip/headers.js';
import type { SipMessage, SipRequest } from '../../src/sip/message.js';
import { parseMessage, SipParseError } from '../../src/sip/parser.js';

const DIR = join(__dirname, '../fixtures/torture');
const fixture = (name: string): Buffer => readFileSync(join(DIR, `${name}.sip`));

function refused(name: string): SipParseError {
  try {
    parseMessage(fixture(name));
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  throw new Error(`${name} parsed`);
}

/** Invalid requests: the status of the answer, and that enough was read to route it (a partial with its Via). */
const REFUSED_REQUESTS: Record<string, { status: 400 | 505; reason: RegExp }> = {
  badinv01: { status: 400, reason: /Malformed Via: Empty header parameter/ }, // RFC 4475 §3.1.2.1
  clerr: { status: 400, reason: /Content-Length larger than message/ }, // §3.1.2.2
  ncl: { status: 400, reason: /Invalid Content-Length/ }, // §3.1.2.3
  scalar02: { status: 400, reason: /Invalid CSeq/ }, // §3.1.2.4
  quotbal: { status: 400, reason: /Malformed To/ }, // §3.1.2.6
  ltgtruri: { status: 400, reason: /Malformed Request-URI/ }, // §3.1.2.7
  lwsruri: { status: 400, reason: /Malformed Request-Line/ }, // §3.1.2.8
  lwsstart: { status: 400, reason: /Malformed Request-Line/ }, // §3.1.2.9
  trws: { status: 400, reason: /Malformed Request-Line/ }, // §3.1.2.10
  escruri: { status: 400, reason: /Request-URI: headers not allowed/ }, // §3.1.2.11
  baddn: { status: 400, reason: /Malformed From: Invalid display name/ }, // §3.1.2.15
  badvers: { status: 505, reason: /Version Not Supported/ }, // §3.1.2.16
  mismatch01: { status: 400, reason: /method does not match/ }, // §3.1.2.17
  insuf: { status: 400, reason: /Missing From header/ }, // §3.3.1
  // §3.3.8: the RFC's "l: 154" overstates its 152-byte body, so over UDP the first error is the length (the
  // multiple headers are checked on a corrected copy below).
  multi01: { status: 400, reason: /Content-Length larger than message/ },
  regbadct: { status: 400, reason: /Malformed Contact: Invalid URI/ }, // §3.1.2.13: a URI with headers must be in <>
  badaspec: { status: 400, reason: /Malformed To: Invalid URI/ }, // §3.1.2.14: spaces inside < >
  mismatch02: { status: 400, reason: /method does not match/ }, // §3.1.2.18
  mcl01: { status: 400, reason: /Multiple Content-Length headers/ },
  'ipv6-bad': { status: 400, reason: /Malformed Request-URI/ }, // RFC 5118 §4.2
  'ipv6-bug-abnf-3-colons': { status: 400, reason: /Invalid IPv6 reference/ }, // RFC 5118 §4.10
};

describe('RFC 4475 / RFC 5118 invalid requests are refused with an answerable partial', () => {
  test.each(Object.entries(REFUSED_REQUESTS))('%s', (name, want) => {
    const err = refused(name);
    expect({ status: err.status, reason: err.reason }).toEqual({ status: want.status, reason: expect.stringMatching(want.reason) });
    expect(err.partial?.headers.getAll('Via').length).toBeGreaterThan(0);
  });
});

test('multi01 (§3.3.8) with its Content-Length corrected: refused for the repeated To/From/Call-ID/CSeq', () => {
  const bytes = Buffer.from(fixture('multi01').toString('latin1').replace('\r\nl: 154\r\n', '\r\nl: 152\r\n'), 'latin1');
  let err: unknown;
  try {
    parseMessage(bytes);
  } catch (e) {
    err = e;
  }
  expect(err instanceof SipParseError && [err.status, err.reason]).toEqual([400, expect.stringMatching(/Multiple (Call-ID|CSeq|To|From) headers/)]);
});

describe('RFC 4475 invalid responses are discarded (§18.1.2: no answer to a response)', () => {
  test.each(['scalarlg', 'bigcode'])('%s', (name) => {
    const err = refused(name);
    expect(err.partial).toBeUndefined();
  });
});

function parsed(name: string): SipMessage {
  return parseMessage(fixture(name));
}
const req = (name: string): SipRequest => parsed(name) as SipRequest;

describe('RFC 4475 / RFC 5118 valid messages parse to these values', () => {
  test('wsinv (§3.1.1.1): folding, LWS everywhere, compact forms, three Vias, empty Subject', () => {
    const m = req('wsinv');
    expect(m.headers.get('To')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
    expect(m.headers.get('Max-Forwards')).toBe('0068');
    expect(m.headers.get('CSeq')).toBe('0009 INVITE');
    expect(m.headers.getAll('Via').map((v) => parseVia(v).host)).toEqual(['192.0.2.2', 'spindle.example.com', '192.168.255.111']);
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(m.body.length).toBe(150);
  });

  test('intmeth (§3.1.1.2): token characters in the method, Call-ID with < > " is a valid word', () => {
    const m = req('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(m.headers.get('Call-ID')).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.headers.get('Max-Forwards')).toBe('255');
  });

  test('semiuri (§3.1.1.9): a ";" in the user part; Accept folded over three lines and split', () => {
    const m = req('semiuri');
    expect(m.uri).toBe('sip:user;par=u%40example.net@example.com');
    expect(m.headers.getAll('Accept')).toHaveLength(6);
  });

  test('transports (§3.1.1.10): five Vias with five transports', () => {
    expect(req('transports').headers.getAll('Via').map((v) => parseVia(v).transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  test('unreason (§3.1.1.12): a UTF-8 reason phrase; noreason (§3.1.1.13): an empty one', () => {
    const a = parsed('unreason');
    const b = parsed('noreason');
    expect(a.kind === 'response' && a.status).toBe(200);
    expect(a.kind === 'response' && a.reason.startsWith('= 2**3 * 5**2')).toBe(true);
    expect(b.kind === 'response' && [b.status, b.reason]).toEqual([100, '']);
  });

  test.each(['bext01', 'invut', 'unkscm', 'sdp01'])('%s parses (answered by the UAS layer, not the parser)', (name) => {
    expect(parsed(name).kind).toBe('request');
  });

  test('ipv6-good / port-ambiguous / port-unambiguous (RFC 5118 §4.1, §4.3, §4.4)', () => {
    expect(req('ipv6-good').uri).toBe('sip:[2001:db8::10]');
    expect(req('port-ambiguous').uri).toBe('sip:[2001:db8::10:5070]');
    expect(req('port-unambiguous').uri).toBe('sip:[2001:db8::10]:5070');
    expect(parseVia(req('ipv6-good').headers.get('Via')!).host).toBe('2001:db8::9:1');
  });

  test('via-received-param-with-delim / -no-delim (RFC 5118 §4.5): both received forms accepted', () => {
    expect(parseVia(req('via-received-param-with-delim').headers.get('Via')!).received).toBe('[2001:db8::9:255]');
    expect(parseVia(req('via-received-param-no-delim').headers.get('Via')!).received).toBe('2001:db8::9:255');
  });

  test('mult-ip-in-header (RFC 5118 §4.7), ipv4-mapped-ipv6 (§4.9), ipv6-correct-abnf-2-colons (§4.10)', () => {
    expect(req('mult-ip-in-header').headers.getAll('Via').map((v) => [parseVia(v).host, parseVia(v).port])).toEqual([
      ['2001:db8::9:1', 6050], ['192.0.2.1', undefined], ['2001:db8::9:255', undefined],
    ]);
    expect(parseVia(req('ipv4-mapped-ipv6').headers.get('Via')!).host).toBe('::ffff:192.0.2.10');
    expect(req('ipv6-correct-abnf-2-colons').uri).toBe('sip:user@[2001:db8::192.0.2.1]');
  });

  test('esc01 (§3.1.1.3): escaped characters in URIs are kept as sent', () => {
    const m = req('esc01');
    expect(m.uri).toBe('sip:sips%3Auser%40example.com@example.net');
    expect(m.headers.get('To')).toBe('sip:%75se%72@example.com');
    expect(m.headers.get('Contact')).toBe('<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>');
    expect(m.headers.get('Call-ID')).toBe('esc01.239409asdfakjkn23onasd0-3234');
  });

  test('escnull (§3.1.1.4): %00 in URIs; esc02 (§3.1.1.5): % in a method and in a header name are not escapes', () => {
    expect(req('escnull').headers.getAll('Contact')).toEqual(['<sip:%00@host5.example.com>', '<sip:%00%00@host5.example.com>']);
    const m = req('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.headers.getAll('Contact')).toEqual(['<sip:alias1@host1.example.com>', '<sip:alias3@host3.example.com>']);
    expect(m.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  test('lwsdisp (§3.1.1.6): no LWS between display name and <', () => {
    expect(req('lwsdisp').headers.get('From')).toBe('caller<sip:caller@example.com>;tag=323');
  });

  test('dblreq (§3.1.1.8): over UDP, bytes after Content-Length (a second request) are discarded', () => {
    const m = req('dblreq');
    expect([m.method, m.body.length]).toEqual(['REGISTER', 0]);
  });

  test.each(['zeromf', 'novelsc', 'unksm2'])('%s parses (answered by the UAS layer)', (name) => {
    expect(parsed(name).kind).toBe('request');
  });

  test('inv2543 (§3.4.1): RFC 2543 syntax (no branch, no From tag, no Content-Length over UDP) parses', () => {
    const m = req('inv2543');
    expect(m.headers.get('Via')).toBe('SIP/2.0/UDP iftgw.example.com');
    expect(m.body.toString()).toMatch(/^v=0\r\n[^]*m=audio 49217 RTP\/AVP 0\r\n$/);
  });

  test('longreq (§3.1.1.7): long display name, params, tag and Call-ID; 34 Vias with mixed-case and compact names', () => {
    const m = req('longreq');
    const to = parseNameAddr(m.headers.get('To')!);
    expect(to.displayName).toBe(`I have a user name of ${'extreme'.repeat(10)} proportion`);
    expect(parseUri(to.uri).params.get(`very${'long'.repeat(25)}parameternamewithnovalue`)).toBeNull();
    expect(parseNameAddr(m.headers.get('From')!).params.get('tag')).toBe(`12${'982'.repeat(50)}424`);
    expect(m.headers.get('Call-ID')).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
    const vias = m.headers.getAll('Via').map((v) => parseVia(v));
    expect(vias).toHaveLength(34);
    expect(vias.slice(0, 33).map((v) => v.host)).toEqual(Array.from({ length: 33 }, (_, i) => `sip${33 - i}.example.com`));
    expect(vias[33]!.host).toBe('host.example.com');
    expect(m.body.length).toBe(150);
  });

  test('baddate (§3.1.2.12): a non-GMT Date is kept as sent (we never read Date; the RFC allows ignoring it)', () => {
    expect(req('baddate').headers.get('Date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
  });

  test('badbranch (§3.2.1): a branch that is only the magic cookie parses', () => {
    expect(parseVia(req('badbranch').headers.get('Via')!).branch).toBe('z9hG4bK');
  });

  test('regaut01 (§3.3.7): an Authorization with an unknown scheme parses', () => {
    expect(req('regaut01').headers.get('Authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');
  });

  test('cparam01 (§3.3.12): without <>, ;unknownparam is a contact-param, not a URI parameter', () => {
    const c = parseNameAddr(req('cparam01').headers.get('Contact')!);
    expect(c.uri).toBe('sip:+19725552222@gw1.example.net');
    expect([...c.params]).toEqual([['unknownparam', null]]);
    expect(parseUri(c.uri).params.size).toBe(0);
  });

  test('cparam02 (§3.3.13): inside <>, ;unknownparam is a URI parameter', () => {
    const c = parseNameAddr(req('cparam02').headers.get('Contact')!);
    expect(c.params.size).toBe(0);
    expect([...parseUri(c.uri).params]).toEqual([['unknownparam', null]]);
  });

  test('regescrt (§3.3.14): an escaped header in a Contact URI inside <> (compact "M")', () => {
    const c = parseNameAddr(req('regescrt').headers.get('Contact')!);
    expect(c.uri).toBe('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
    expect(parseUri(c.uri).headers.size).toBe(1);
  });

  test('ipv6-in-sdp (RFC 5118 §4.6), mult-ip-in-sdp (§4.8): IPv6 in the SDP body is the body\'s business', () => {
    for (const name of ['ipv6-in-sdp', 'mult-ip-in-sdp']) {
      const m = req(name);
      expect(m.uri).toBe('sip:user@[2001:db8::10]');
      expect(m.body.toString()).toMatch(/\r\nc=IN IP6 2001:db8::(20|1)\r\n/);
    }
    expect(req('mult-ip-in-sdp').body.toString()).toMatch(/\r\nc=IN IP4 192\.0\.2\.1\r\n/);
  });

  test('bcast (§3.3.10): a response whose second Via is 255.255.255.255 parses (the transport drops it)', () => {
    const m = parsed('bcast');
    expect(m.kind === 'response' && m.status).toBe(200);
    expect(m.headers.getAll('Via').map((v) => parseVia(v).host)).toEqual(['192.0.2.198', '255.255.255.255']);
    expect(m.body.length).toBe(154);
  });

  test('mpart01 (§3.1.1.11): a multipart body with a binary part (NUL bytes, bare LFs) is framed by Content-Length', () => {
    const m = req('mpart01');
    expect([m.method, m.body.length]).toEqual(['MESSAGE', 553]);
    expect(m.body.includes(0)).toBe(true);
    expect(m.body.subarray(-24).toString('latin1')).toBe('\r\n--7a9cbec02ceef655--\r\n');
    expect(m.headers.get('Content-Type')).toBe('multipart/mixed;boundary=7a9cbec02ceef655');
    expect(m.headers.get('Identity')).toMatch(/^r5mwreLuyDRYBi\/0TiPwEsY3rEVsk\/G2Wxhg[^\s]+=$/);
  });

  test('every fixture in the corpus is covered by a test above', () => {
    const covered = new Set([...Object.keys(REFUSED_REQUESTS), 'scalarlg', 'bigcode', 'wsinv', 'intmeth', 'semiuri', 'transports',
      'unreason', 'noreason', 'bext01', 'invut', 'unkscm', 'sdp01', 'ipv6-good', 'port-ambiguous', 'port-unambiguous',
      'via-received-param-with-delim', 'via-received-param-no-delim', 'mult-ip-in-header', 'ipv4-mapped-ipv6', 'ipv6-correct-abnf-2-colons',
      'esc01', 'escnull', 'esc02', 'lwsdisp', 'dblreq', 'zeromf', 'novelsc', 'unksm2', 'inv2543', 'longreq', 'baddate',
      'badbranch', 'regaut01', 'cparam01', 'cparam02', 'regescrt', 'ipv6-in-sdp', 'mult-ip-in-sdp', 'bcast', 'mpart01']);
    const files = readdirSync(DIR).filter((f) => f.endsWith('.sip')).map((f) => f.slice(0, -4));
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });
});
