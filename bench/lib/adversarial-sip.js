'use strict';
/**
 * ~64 KB SIP datagrams for issue 11 "hostile input", shared by `npm run bench:parser` (bench/parser.js) and
 * test/sip/adversarial.test.ts:
 *
 *  - ORDINARY_DATAGRAMS: what a legitimate peer may send at that size (many ordinary headers, a large SDP or
 *    multipart body), the yardstick;
 *  - ADVERSARIAL_DATAGRAMS: every shape we could think of that makes a naive parser quadratic or a limit-less
 *    one slow, for each header grammar we parse (Via, From/To, Contact, Route/Record-Route, CSeq,
 *    Content-Length, the Request-URI) and for the bodies we read (SDP, multipart boundaries). Some fill the whole
 *    64 KB with a header section (refused at the 16 KB header-section limit); the `(in 16 KB head)` ones keep the
 *    hostile header section just under that limit and pad the datagram with a body, so every other limit is hit.
 *
 * Each entry: `name`, `bytes`, and `expect`: the outcome prefix the test asserts for parse + SDP reading
 * (`parsed`, `sdp ok`, `400 …`, `513 …`, `sdp 488`, `body 400`). Every datagram carries the fixed-width markers
 * `z9hG4bKadv00000000` (branch) and `adv00000000@` (Call-ID) that the UDP bench overwrites to make each send a
 * new request; its Via has `rport`, so answers come back to the sender.
 */
const SIZE = 65_000;
const HEAD_LIMIT = 16_384;

const VIA = 'Via: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKadv00000000\r\n';
const DIALOG = 'From: "Alice" <sip:0611223344@192.0.2.1>;tag=1928301774\r\nTo: <sip:+33900000000@127.0.0.1>\r\n'
  + 'Call-ID: adv00000000@192.0.2.1\r\nMax-Forwards: 70\r\n';
const INVITE_LINE = 'INVITE sip:+33900000000@127.0.0.1 SIP/2.0\r\n';
const HEAD = `${INVITE_LINE}${VIA}${DIALOG}CSeq: 1 INVITE\r\n`;
const SDP_HEAD = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n';
const SDP_AUDIO = 'm=audio 49170 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n';

/** HEAD without the header field `name` (its hostile version goes in a hostileHead() prefix instead). */
const without = (name) => HEAD.replace(new RegExp(`${name}: [^\\r]*\\r\\n`), '');

const repeatTo = (unit, room) => unit.repeat(Math.max(1, Math.floor(room / unit.length)));

/** `head` (start line and headers, no Content-Length) + Content-Type/Length + `body`, as latin1 bytes. */
function message(head, body, contentType = 'application/sdp') {
  const type = body.length > 0 ? `Content-Type: ${contentType}\r\n` : '';
  return Buffer.from(`${head}${type}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`, 'latin1');
}

/** A whole-64 KB header section: HEAD + prefix + unit repeated + suffix + Content-Length: 0. */
function bigHead(unit, prefix = '', suffix = '') {
  const tail = 'Content-Length: 0\r\n\r\n';
  const room = SIZE - HEAD.length - tail.length - prefix.length - suffix.length;
  return Buffer.from(HEAD + prefix + repeatTo(unit, room) + suffix + tail, 'latin1');
}

/** A hostile header section just under the 16 KB limit, then an ordinary SDP padded to SIZE with a= lines. */
function hostileHead(unit, prefix = '', suffix = '', head = HEAD) {
  const room = HEAD_LIMIT - 600 - head.length - prefix.length - suffix.length;
  return padded(head + prefix + repeatTo(unit, room) + suffix);
}

/** One hostile header line just under the 8 KB line limit (so the header's own grammar reads it), then the SDP padding. */
function hostileLine(unit, prefix = '', suffix = '', head = HEAD) {
  const room = 8150 - prefix.length - suffix.length;
  return padded(head + prefix + repeatTo(unit, room) + suffix);
}

/** `head` + an ordinary SDP offer padded with ordinary attribute lines to about SIZE bytes in all. */
function padded(head, line = 'a=x-pad:0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop\r\n') {
  const base = head.length + 80 + SDP_HEAD.length + SDP_AUDIO.length;
  return message(head, SDP_HEAD + SDP_AUDIO + repeatTo(line, SIZE - base));
}

/** An SDP offer of about SIZE bytes: the ordinary session lines plus `sdp` (m= sections and attributes). */
function hostileSdp(sdp) {
  return message(HEAD, SDP_HEAD + sdp);
}

function sdpRoom(extra = '') {
  return SIZE - HEAD.length - 80 - SDP_HEAD.length - extra.length;
}

const ORDINARY_INVITE = message(
  `${INVITE_LINE}${VIA}${DIALOG}CSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.1:5060>\r\n`
  + 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO\r\nSupported: replaces, timer\r\nUser-Agent: bench\r\n',
  'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n',
);

/** 124 ordinary header fields as a proxy chain puts them (Vias, Record-Routes, P- and X- headers): ~13 KB. */
function ordinaryHeaders() {
  let h = INVITE_LINE + VIA;
  for (let i = 0; i < 12; i++) h += `Via: SIP/2.0/UDP proxy${i}.example.net:5060;branch=z9hG4bK${i}a7f3c2e9d1b;received=198.51.100.${i}\r\n`;
  h += DIALOG + 'CSeq: 1 INVITE\r\n';
  for (let i = 0; i < 12; i++) h += `Record-Route: <sip:proxy${i}.example.net;lr;ftag=1928301774;did=a1b.${i}c2>\r\n`;
  h += 'Contact: "Alice" <sip:0611223344@192.0.2.1:5060;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"\r\n';
  h += 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE, MESSAGE\r\n';
  h += 'Supported: replaces, timer, 100rel, path, outbound, gruu\r\nUser-Agent: Ordinary-PBX/20.5.2\r\n';
  h += 'P-Asserted-Identity: "Alice" <sip:+33611223344@operator.example.net;user=phone>\r\n';
  h += 'Diversion: <sip:+33900000001@operator.example.net;user=phone>;reason=no-answer;counter=1;privacy=off\r\n';
  for (let i = 0; h.length < HEAD_LIMIT - 1300 && h.split('\r\n').length < 124; i++) {
    h += `X-Operator-Trace-${i}: node=${i};session=7f3c2e9d1b4a6c8e0f2a4c6e8a0b2d4f;hop=${i};ts=2026-12-02T00:00:00.000Z\r\n`;
  }
  return h;
}

const ISUP_PART = (n) => `--unique-boundary-1\r\nContent-Type: application/ISUP;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n${'\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03'.repeat(n)}\r\n`;

const ORDINARY_DATAGRAMS = [
  { name: 'ordinary INVITE, 124 headers (13 KB) + SDP padded to 64 KB', bytes: padded(ordinaryHeaders()), expect: 'sdp ok' },
  {
    name: 'ordinary INVITE, multipart/mixed SDP + 60 KB ISUP',
    bytes: message(HEAD, `--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n${SDP_HEAD}${SDP_AUDIO}\r\n${ISUP_PART(3100)}--unique-boundary-1--\r\n`, 'multipart/mixed;boundary=unique-boundary-1'),
    expect: 'sdp ok',
  },
  { name: 'ordinary INVITE, 64 KB SDP of 2,000 a=candidate-like lines', bytes: hostileSdp(SDP_AUDIO + repeatTo('a=candidate:1 1 UDP 2130706431 192.0.2.1 49170 typ host\r\n', sdpRoom(SDP_AUDIO))), expect: 'sdp ok' },
  { name: 'ordinary INVITE whose Content-Length exceeds the datagram (refused, 400)', bytes: Buffer.from(padded(ordinaryHeaders()).toString('latin1').replace(/Content-Length: \d+/, 'Content-Length: 99999'), 'latin1'), expect: '400 Content-Length larger' },
];

const NESTED = (open, close, n) => open.repeat(n) + close.repeat(n);

const ADVERSARIAL_DATAGRAMS = [
  // Whole 64 KB header sections: refused at the header-section limit, whatever they hold.
  { name: 'whitespace runs + folds', bytes: bigHead(`${' '.repeat(4000)}x\r\n ${' '.repeat(4000)}y\r\n`, 'Subject: a'), expect: '513 Header Section Too Large' },
  { name: '5,000 spaces in a header name', bytes: bigHead(`X-Junk${' '.repeat(5000)}junk: v\r\n`), expect: '513 Header Section Too Large' },
  { name: 'thousands of headers', bytes: bigHead('X-A: b\r\n'), expect: '513 Header Section Too Large' },
  { name: 'thousands of commas in a list header', bytes: bigHead(`Supported: a${',a'.repeat(3000)}\r\n`), expect: '513 Header Section Too Large' },
  { name: 'deeply nested angle brackets', bytes: bigHead('<', 'Contact: ', 'sip:x@y\r\n'), expect: '513 Header Section Too Large' },
  { name: 'deeply nested quotes', bytes: bigHead('"\\"', 'Contact: ', '<sip:x@y>\r\n'), expect: '513 Header Section Too Large' },
  { name: 'thousands of folds of one header', bytes: bigHead('\r\n x', 'Subject: a'), expect: '513 Header Section Too Large' },
  { name: 'no empty line at all (64 KB of one header)', bytes: Buffer.from(HEAD + 'Subject: ' + 'x'.repeat(SIZE - HEAD.length - 9), 'latin1'), expect: '513 Header Section Too Large' },
  { name: 'bare LF line ends, thousands of headers', bytes: Buffer.from(bigHead('X-A: b\r\n').toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), expect: '513 Header Section Too Large' },

  // Hostile header sections under 16 KB, datagram padded to 64 KB with an ordinary SDP.
  { name: 'runs of 1,000 spaces + folds, within limits (in 16 KB head)', bytes: hostileHead(`${' '.repeat(1000)}x\r\n ${' '.repeat(1000)}y\r\n`, 'Subject: a', '\r\n'), expect: 'sdp ok' },
  { name: 'runs of 2,000 spaces + folds (in 16 KB head)', bytes: hostileHead(`${' '.repeat(2000)}x\r\n ${' '.repeat(2000)}y\r\n`, 'Subject: a', '\r\n'), expect: '400 Whitespace Run Too Long' },
  { name: '5,000 spaces in a header name (in 16 KB head)', bytes: hostileHead(' ', 'X-Junk', 'junk: v\r\n'), expect: '400 Whitespace Run Too Long' },
  { name: 'tabs and spaces mixed, runs of 1,200 (in 16 KB head)', bytes: hostileHead(`X-T: a${' \t'.repeat(600)}b\r\n`), expect: '400 Whitespace Run Too Long' },
  { name: '2,000 header lines (in 16 KB head)', bytes: hostileHead('X-A: b\r\n'), expect: '400 Too Many Header' },
  { name: '4,000 folds of one header (in 16 KB head)', bytes: hostileHead('\r\n x', 'Subject: a', '\r\n'), expect: '400 Too Many Header Lines' },
  { name: 'one 15 KB header line (in 16 KB head)', bytes: hostileHead('x', 'Subject: ', '\r\n'), expect: '400 Header Line Too Long' },
  { name: 'one 15 KB Request-URI', bytes: hostileHead('a', '', `@127.0.0.1 SIP/2.0\r\n${VIA}${DIALOG}CSeq: 1 INVITE\r\n`, 'INVITE sip:'), expect: '400 Malformed start line' },
  { name: 'Request-URI with 3,000 ;params and ?headers', bytes: hostileHead(';a=b', '', `?h=v&h=v SIP/2.0\r\n${VIA}${DIALOG}CSeq: 1 INVITE\r\n`, 'INVITE sip:+33900000000@127.0.0.1'), expect: '400 Malformed start line' },
  { name: '7,000 commas in Supported (in 16 KB head)', bytes: hostileHead(',a', 'Supported: a', '\r\n'), expect: '400 Header Line Too Long' },
  { name: '3,500 commas in 2,000-value Supported lines', bytes: hostileHead(`Supported: a${',a'.repeat(1999)}\r\n`), expect: '400 Too Many Header Values' },
  { name: '300 Vias in one 8 KB header', bytes: hostileLine(',SIP/2.0/UDP h', 'Via: SIP/2.0/UDP h', '\r\n'), expect: '400 Too Many Header Values' },
  { name: '300 Via header lines', bytes: hostileHead('Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n'), expect: '400 Too Many Headers' },
  { name: 'Via with 2,000 parameters', bytes: hostileLine(';a=b', 'Via: SIP/2.0/UDP h', '\r\n'), expect: '400 Malformed Via: more than 64 header parameters' },
  { name: 'Via with an 8 KB host', bytes: hostileLine('a.', 'Via: SIP/2.0/UDP ', ':5060;branch=z9hG4bK1\r\n'), expect: 'sdp ok' },
  { name: 'From with 1,300 ;tag params', bytes: hostileLine(';tag=1', 'From: <sip:a@b>', '\r\n', without('From')), expect: '400 Malformed From: more than 64 header parameters' },
  { name: 'To display name of 4,000 quoted-pairs', bytes: hostileLine('\\"', 'To: "', '" <sip:a@b>\r\n', without('To')), expect: '400 Malformed To: display name longer than 512' },
  { name: 'From display name of 2,000 tokens', bytes: hostileLine('tok ', 'From: ', '<sip:a@b>;tag=1\r\n', without('From')), expect: '400 Malformed From: display name longer than 512' },
  { name: 'Contact list of 300 contacts', bytes: hostileLine(', <sip:c@192.0.2.1>;q=0.5', 'Contact: <sip:c@192.0.2.1>', '\r\n'), expect: '400 Contact must hold exactly one URI' },
  { name: 'Contact with 8,000 nested <', bytes: hostileLine('<', 'Contact: ', 'sip:x@y>\r\n'), expect: '400 Malformed Contact' },
  { name: 'Contact with 2,700 nested quotes', bytes: hostileLine('"\\"', 'Contact: ', '<sip:x@y>\r\n'), expect: '400 Malformed Contact' },
  { name: 'Contact with an unterminated quote and 8,000 commas', bytes: hostileLine(',', 'Contact: "', '\r\n'), expect: '400 Malformed Contact' },
  { name: 'Record-Route of 400 entries', bytes: hostileLine(',<sip:p.example;lr>', 'Record-Route: <sip:p.example;lr>', '\r\n'), expect: 'sdp ok' },
  { name: 'Route of 400 entries', bytes: hostileLine(',<sip:p.example;lr>', 'Route: <sip:p.example;lr>', '\r\n'), expect: 'sdp ok' },
  { name: 'CSeq with 8,000 digits', bytes: hostileLine('9', 'CSeq: ', ' INVITE\r\n', without('CSeq')), expect: '400 Invalid CSeq' },
  { name: 'CSeq with 1,000-space runs', bytes: hostileLine(`${' '.repeat(999)}1`, 'CSeq: 1', ' INVITE\r\n', without('CSeq')), expect: '400 Invalid CSeq' },
  { name: 'Content-Length of 7,000 zeros', bytes: Buffer.from(`${HEAD}Content-Length: ${'0'.repeat(7000)}\r\n\r\n${'x'.repeat(SIZE - HEAD.length - 7020)}`, 'latin1'), expect: '400 Invalid Content-Length' },
  { name: 'Call-ID of 8 KB', bytes: hostileLine('a', 'Call-ID: ', '@h\r\n', without('Call-ID')), expect: 'sdp ok' },

  // Ordinary headers, hostile bodies (their cost is the SDP/multipart reading the server does for an INVITE).
  { name: 'SDP: m= line of 20,000 payload types + 1,500 rtpmaps', bytes: hostileSdp(`m=audio 49170 RTP/AVP${repeatTo(' 96', 30_000)}\r\n${repeatTo('a=rtpmap:96 opus/48000\r\n', sdpRoom() - 30_100)}`), expect: 'sdp 488' },
  { name: 'SDP: 3,000 m= sections', bytes: hostileSdp(repeatTo('m=audio 1 RTP/AVP 0\r\n', sdpRoom())), expect: 'sdp 488 SDP has more than 32 media descriptions' },
  { name: 'SDP: one 60 KB attribute line', bytes: hostileSdp(`${SDP_AUDIO}a=fmtp:101 ${'0-16;'.repeat(Math.floor((sdpRoom(SDP_AUDIO) - 20) / 5))}\r\n`), expect: 'sdp ok' },
  { name: 'SDP: 10,000 bare a= lines', bytes: hostileSdp(SDP_AUDIO + repeatTo('a=\r\n', sdpRoom(SDP_AUDIO))), expect: 'sdp 488 SDP of more than 2048 lines' },
  { name: 'SDP: 6,000 c= lines', bytes: hostileSdp(SDP_AUDIO + repeatTo('c=IN IP4 1.1\r\n', sdpRoom(SDP_AUDIO))), expect: 'sdp 488 SDP has more than 1024 lines we read' },
  { name: 'SDP: whitespace runs in m= and rtpmap', bytes: hostileSdp(`m=audio 49170 RTP/AVP 0${' '.repeat(30_000)}8\r\na=rtpmap:0 ${' '.repeat(sdpRoom() - 30_100)}PCMU/8000\r\n`), expect: 'sdp 488 SDP line longer than 2048' },
  { name: 'SDP: bare CR line ends only', bytes: hostileSdp((SDP_AUDIO + repeatTo('a=x\r', sdpRoom(SDP_AUDIO))).replace(/\r\n/g, '\r')), expect: 'sdp 488 SDP of more than 2048 lines' },
  {
    name: 'multipart: 2,000 empty parts',
    bytes: message(HEAD, `--b\r\nContent-Type: application/sdp\r\n\r\n${SDP_HEAD}${SDP_AUDIO}\r\n${repeatTo('--b\r\n\r\n\r\n', sdpRoom() - 200)}--b--\r\n`, 'multipart/mixed;boundary=b'),
    expect: 'body 400 multipart body of more than',
  },
  {
    name: 'multipart: 70-char boundary, body of near-matches',
    bytes: message(HEAD, `${repeatTo(`--${'a'.repeat(69)}b`, sdpRoom() - 100)}--${'a'.repeat(70)}\r\n`, `multipart/mixed;boundary=${'a'.repeat(70)}`),
    expect: 'body 400',
  },
  {
    name: 'multipart: part with 5,000 header lines, no closing boundary',
    bytes: message(HEAD, `--b\r\n${repeatTo('X-P: 1\r\n', sdpRoom() - 100)}\r\n${SDP_HEAD}`, 'multipart/mixed;boundary=b'),
    expect: 'body 400',
  },
  { name: 'multipart: nested 2,000 deep', bytes: message(HEAD, NESTED('--b\r\nContent-Type: multipart/mixed;boundary=b\r\n\r\n', '--b--\r\n', 900), 'multipart/mixed;boundary=b'), expect: 'body 400 multipart body of more than' },
];

module.exports = { ADVERSARIAL_DATAGRAMS, ORDINARY_DATAGRAMS, ORDINARY_INVITE, HEAD_LIMIT };
