/**
 * Issue 11 "hostile input": ~64 KB datagrams built to make a naive parser quadratic, for every header grammar
 * and body we read, and ordinary datagrams of the same size. Each must be parsed or refused — parse, then for
 * an INVITE the SDP reading the user agent does before anything else (sdpOf, answerOffer) — with our typed
 * errors only. Only the outcome is asserted here; the cost per datagram is in `npm run bench:parser`.
 */
import { describe, expect, test } from '@jest/globals';
import { DEFAULT_PARSE_LIMITS, parseMessage, SipParseError } from '../../src/sip/parser.js';
import { sdpOf, SipBodyError, MAX_MULTIPART_PARTS } from '../../src/sip/body.js';
import { answerOffer, SdpNegotiationError, SDP_LIMITS } from '../../src/sip/sdp.js';
import { ADVERSARIAL_DATAGRAMS, HEAD_LIMIT, ORDINARY_DATAGRAMS } from '../../bench/lib/adversarial-sip.js';

/** The same steps as bench/lib/sip-cost.js, on the sources. */
function outcome(buf: Buffer): string {
  let msg;
  try {
    msg = parseMessage(buf);
  } catch (e) {
    if (e instanceof SipParseError) return `${e.status} ${e.reason}`;
    throw e;
  }
  if (msg.kind !== 'request' || msg.method !== 'INVITE' || msg.body.length === 0) return 'parsed';
  let offer;
  try {
    offer = sdpOf(msg);
  } catch (e) {
    if (e instanceof SipBodyError) return `body 400 ${e.message}`;
    throw e;
  }
  if (offer === undefined) return 'sdp none';
  try {
    answerOffer(offer, { address: '0.0.0.0', port: 9, sessionId: '0', sessionVersion: 0 });
    return 'sdp ok';
  } catch (e) {
    if (e instanceof SdpNegotiationError) return `sdp 488 ${e.message}`;
    throw e;
  }
}

describe('~64 KB datagrams: ordinary ones are read, adversarial ones parsed or refused', () => {
  test('the header-section limit is the one the datagram set is built around', () => {
    expect(DEFAULT_PARSE_LIMITS.maxHeaderSectionBytes).toBe(HEAD_LIMIT);
  });

  test.each([...ORDINARY_DATAGRAMS, ...ADVERSARIAL_DATAGRAMS].map((d) => [d.name, d] as const))('%s', (_name, d) => {
    expect(d.bytes.length).toBeGreaterThan(50_000);
    expect(d.bytes.length).toBeLessThanOrEqual(65_535);
    expect(outcome(d.bytes).startsWith(d.expect)).toBe(true);
  });

  test('a request just inside every limit still parses', () => {
    const msg = parseMessage(Buffer.from(
      `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nX-Pad: a${' '.repeat(1000)}b\r\nSubject: a\r\n ${'b'.repeat(100)}\r\n c\r\nContent-Length: 0\r\n\r\n`,
    ));
    expect(msg.kind).toBe('request');
    expect(msg.headers.get('Subject')).toBe(`a ${'b'.repeat(100)} c`);
  });

  test('a header section of exactly the limit parses; one byte more is 513 and still answerable', () => {
    const base = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n';
    const pad = (n: number): Buffer => {
      let h = base;
      while (h.length + 8000 < n) h += `X-P: ${'p'.repeat(7990)}\r\n`;
      // The header section runs from the start line to the empty line, its CRLF excluded: n bytes.
      h += `X-Q: ${'q'.repeat(n + 2 - h.length - 7)}\r\n`;
      return Buffer.from(`${h}\r\n`);
    };
    expect(parseMessage(pad(HEAD_LIMIT)).kind).toBe('request');
    let err: unknown;
    try {
      parseMessage(pad(HEAD_LIMIT + 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipParseError);
    expect((err as SipParseError).status).toBe(513);
    expect((err as SipParseError).partial?.headers.get('Call-ID')).toBe('x');
  });

  test('SDP limits: 32 m= sections, 2,048 lines and 2,048-character lines pass, one more is 488; unread attributes do not count as read', () => {
    const head = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n';
    const media = (n: number): string => `${head}${'m=audio 49170 RTP/AVP 0\r\n'.repeat(n)}`;
    const local = { address: '0.0.0.0', port: 9, sessionId: '0', sessionVersion: 0 };
    expect(() => answerOffer(media(SDP_LIMITS.maxMedia), local)).not.toThrow();
    expect(() => answerOffer(media(SDP_LIMITS.maxMedia + 1), local)).toThrow(SdpNegotiationError);
    const lines = (n: number): string => `${head}m=audio 49170 RTP/AVP 0\r\n${'a=candidate:1 1 UDP 1 192.0.2.1 1 typ host\r\n'.repeat(n - 6)}`;
    expect(() => answerOffer(lines(SDP_LIMITS.maxLines), local)).not.toThrow();
    expect(() => answerOffer(lines(SDP_LIMITS.maxLines + 1), local)).toThrow(SdpNegotiationError);
    const mLine = (n: number): string => `${head}m=audio 49170 RTP/AVP 0${' '.repeat(n - 23)}\r\n`;
    expect(() => answerOffer(mLine(SDP_LIMITS.maxLineRead), local)).not.toThrow();
    expect(() => answerOffer(mLine(SDP_LIMITS.maxLineRead + 1), local)).toThrow(/SDP line longer than/);
    // The attributes we read survive the filter: direction, ptime, rtpmap (lone-CR line ends too).
    const offer = `${head}m=audio 49170 RTP/AVP 96 0 101\r\na=rtpmap:96 opus/48000\r\na=candidate:x\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\na=sendonly\r\n`;
    for (const sdp of [offer, offer.replace(/\r\n/g, '\r'), offer.replace(/\r\n/g, '\n')]) {
      const { media: m } = answerOffer(sdp, local);
      expect(m).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEventPayloadTypes: [101], ptimeMs: 30, direction: 'recvonly' });
    }
  });

  test(`a multipart body of ${MAX_MULTIPART_PARTS} parts is read, one more part is refused`, () => {
    const part = '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n';
    const sdpPart = '--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n';
    const invite = (parts: number): Buffer => {
      const body = `${part.repeat(parts - 1)}${sdpPart}--b--\r\n`;
      return Buffer.from(`INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Type: multipart/mixed;boundary=b\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    };
    expect(sdpOf(parseMessage(invite(MAX_MULTIPART_PARTS)))).toBe('v=0\r\n');
    expect(() => sdpOf(parseMessage(invite(MAX_MULTIPART_PARTS + 1)))).toThrow(SipBodyError);
  });
});
