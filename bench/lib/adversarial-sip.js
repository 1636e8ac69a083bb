'use strict';
/**
 * 64 KB SIP datagrams built to make a naive parser quadratic (issue 11 "hostile input"), shared by
 * `npm run bench:parser` (bench/parser.js) and test/sip/adversarial.test.ts.
 */
const SIZE = 65_000;

const HEAD = 'INVITE sip:vm@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKadv\r\nFrom: <sip:a@example.com>;tag=1\r\n'
  + 'To: <sip:vm@example.com>\r\nCall-ID: adv@192.0.2.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n';
const TAIL = 'Content-Length: 0\r\n\r\n';

/** HEAD + `middle` repeated until the datagram is about SIZE bytes + TAIL. */
function fill(unit, prefix = '', suffix = '') {
  const room = SIZE - HEAD.length - TAIL.length - prefix.length - suffix.length;
  return Buffer.from(HEAD + prefix + unit.repeat(Math.max(1, Math.floor(room / unit.length))) + suffix + TAIL, 'latin1');
}

const ORDINARY_INVITE = Buffer.from(
  'INVITE sip:+33912345678@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n'
  + 'Max-Forwards: 70\r\nTo: <sip:+33912345678@127.0.0.1>\r\nFrom: "Alice" <sip:0611223344@192.0.2.1>;tag=1928301774\r\n'
  + 'Call-ID: a84b4c76e66710@192.0.2.1\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.1:5060>\r\n'
  + 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO\r\nSupported: replaces, timer\r\nUser-Agent: bench\r\n'
  + 'Content-Type: application/sdp\r\nContent-Length: 129\r\n\r\n'
  + 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n',
  'latin1',
);

const ADVERSARIAL_DATAGRAMS = [
  // A header holding a long run of spaces followed by a folded line, many times over.
  { name: 'whitespace runs + folds', bytes: fill(`${' '.repeat(4000)}x\r\n ${' '.repeat(4000)}y\r\n`, 'Subject: a') },
  // A header name, 5,000 spaces, junk, a colon.
  { name: '5,000 spaces in a header name', bytes: fill(`X-Junk${' '.repeat(5000)}junk: v\r\n`) },
  { name: 'thousands of headers', bytes: fill('X-A: b\r\n') },
  // List headers each under the line limit, but with thousands of comma-separated values in all.
  { name: 'thousands of commas in a list header', bytes: fill(`Supported: a${',a'.repeat(3000)}\r\n`) },
  { name: 'deeply nested angle brackets', bytes: fill('<', 'Contact: ', 'sip:x@y\r\n') },
  { name: 'deeply nested quotes', bytes: fill('"\\"', 'Contact: ', '<sip:x@y>\r\n') },
  { name: 'thousands of folds of one header', bytes: fill('\r\n x', 'Subject: a') },
];

module.exports = { ADVERSARIAL_DATAGRAMS, ORDINARY_INVITE };
