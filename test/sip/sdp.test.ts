import { describe, expect, test } from '@jest/globals';
import { parse } from 'sdp-transform';
import { answerOffer, createOffer, negotiateOffer, readAnswer, SdpNegotiationError } from '../../src/sip/sdp.js';
import { createNotAcceptableHere } from '../../src/sip/response.js';
import { sdpOf, SipBodyError } from '../../src/sip/body.js';
import { createRequest, Headers } from '../../src/sip/message.js';

const local = { address: '192.0.2.10', port: 20000, sessionId: '42', sessionVersion: 1 };
const offer = (m: string, extra = '', c = 'c=IN IP4 198.51.100.7\r\n'): string =>
  `v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\n${c}t=0 0\r\n${m}${extra}`;

describe('SDP offer/answer (RFC 3264)', () => {
  test('the first G.711 codec in the offerer order is chosen, with every telephone-event payload type offered', () => {
    const { answer, media } = answerOffer(
      offer('m=audio 4000 RTP/AVP 111 8 0 96 101\r\n', 'a=rtpmap:111 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n'),
      local,
    );
    expect(media).toEqual({ codec: 'PCMA', payloadType: 8, telephoneEventPayloadTypes: [96, 101], remoteAddress: '198.51.100.7', remotePort: 4000, ptimeMs: 30, direction: 'sendrecv' });
    const a = parse(answer);
    expect(a.media).toHaveLength(1);
    expect(a.media[0]!).toMatchObject({ port: 20000, protocol: 'RTP/AVP', payloads: '8 96 101', direction: 'sendrecv', ptime: 30 });
    expect(a.connection?.ip).toBe('192.0.2.10');
  });

  test('static payload types without rtpmap are understood (RFC 3551)', () => {
    expect(answerOffer(offer('m=audio 4000 RTP/AVP 0\r\n'), local).media).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEventPayloadTypes: [] });
  });

  test('one answer m-line per offered m-line; streams we do not take are answered with port 0', () => {
    const { answer } = answerOffer(offer('m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 8\r\n'), local);
    expect(parse(answer).media.map((m) => [m.type, m.port])).toEqual([['video', 0], ['audio', 20000], ['audio', 0]]);
  });

  test.each([
    ['sendonly', 'recvonly'],
    ['recvonly', 'sendonly'],
    ['inactive', 'inactive'],
    ['sendrecv', 'sendrecv'],
  ])('an offer marked %s is answered %s (§6.1)', (offered, answered) => {
    const { answer, media } = answerOffer(offer('m=audio 4000 RTP/AVP 0\r\n', `a=${offered}\r\n`), local);
    expect(media.direction).toBe(answered);
    expect(parse(answer).media[0]!.direction).toBe(answered);
  });

  test('media-level c= wins over the session level one', () => {
    expect(answerOffer(offer('m=audio 4000 RTP/AVP 0\r\nc=IN IP4 203.0.113.5\r\n'), local).media.remoteAddress).toBe('203.0.113.5');
  });

  test.each([
    ['no common codec', offer('m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n'), 305, /no common codec/],
    ['G.711 over SRTP only', offer('m=audio 4000 RTP/SAVP 0\r\n'), 305, /no common codec/],
    ['video only', offer('m=video 4000 RTP/AVP 96\r\n'), 304, /no audio/],
    ['garbage', 'hello', 304, /no media/],
    ['no connection address', offer('m=audio 4000 RTP/AVP 0\r\n', '', ''), 399, /connection/],
  ])('%s → SdpNegotiationError with the right Warning code', (_what, sdp, code, message) => {
    let err: unknown;
    try {
      answerOffer(sdp, local);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SdpNegotiationError);
    expect((err as SdpNegotiationError).warnCode).toBe(code);
    expect((err as Error).message).toMatch(message);
  });

  test('an offer is negotiated once; the answer is written later for the port opened meanwhile', () => {
    const n = negotiateOffer(offer('m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 8 101\r\n', 'a=rtpmap:101 telephone-event/8000\r\n'));
    expect(n.media).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEventPayloadTypes: [101], remotePort: 4000 });
    const first = parse(n.answer(local));
    const second = parse(n.answer({ ...local, address: '192.0.2.11', port: 30000, sessionVersion: 2 }));
    expect(first.media.map((m) => [m.type, m.port])).toEqual([['video', 0], ['audio', 20000]]);
    expect(second.media.map((m) => [m.type, m.port])).toEqual([['video', 0], ['audio', 30000]]);
    expect(second).toMatchObject({ connection: { ip: '192.0.2.11' }, origin: { sessionVersion: 2 } });
    // The same answer as the one-step form.
    expect(n.answer(local)).toBe(answerOffer(offer('m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 8 101\r\n', 'a=rtpmap:101 telephone-event/8000\r\n'), local).answer);
  });

  test('the one 488 carries the Warning code of the failure (RFC 3261 §20.43) as a valid quoted-string, and Accept', () => {
    const invite = createRequest('INVITE', 'sip:vm@example.net', new Headers([['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1'], ['From', '<sip:a@example.com>;tag=f'], ['To', '<sip:vm@example.net>'], ['Call-ID', 'c'], ['CSeq', '1 INVITE']]));
    const res = createNotAcceptableHere(invite, new SdpNegotiationError('no common codec', 305), 'uas1');
    expect(res.status).toBe(488);
    expect(res.reason).toBe('Not Acceptable Here');
    expect(res.headers.get('Warning')).toBe('305 repondeur "no common codec"');
    expect(res.headers.get('Accept')).toBe('application/sdp');
    expect(res.headers.get('To')).toBe('<sip:vm@example.net>;tag=uas1');
    // A message quoting what the peer sent: quotes and backslashes escaped (§25.1 quoted-pair), no CR/LF.
    const hostile = createNotAcceptableHere(invite, new SdpNegotiationError('unparseable SDP: bad "x\\y"\r\nVia: evil', 399));
    expect(hostile.headers.get('Warning')).toBe('399 repondeur "unparseable SDP: bad \\"x\\\\y\\" Via: evil"');
  });

  test('our offer (late offer) lists PCMU, PCMA and telephone-event, and the answer is read back', () => {
    const o = parse(createOffer(local));
    expect(o.media[0]).toMatchObject({ port: 20000, payloads: '0 8 101' });
    const media = readAnswer(offer('m=audio 4100 RTP/AVP 8 101\r\n', 'a=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n'));
    expect(media).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEventPayloadTypes: [101], remotePort: 4100, direction: 'sendonly' });
    expect(() => readAnswer(offer('m=audio 0 RTP/AVP 0\r\n'))).toThrow(/rejected/);
  });
});

describe('SDP inside a message body', () => {
  const sdp = offer('m=audio 4000 RTP/AVP 0\r\n');
  const msg = (type: string, body: string) =>
    createRequest('INVITE', 'sip:+33912345678@example.net', new Headers([['Content-Type', type]]), Buffer.from(body));

  test('application/sdp', () => {
    expect(sdpOf(msg('application/sdp', sdp))).toBe(sdp);
  });

  test('multipart/mixed with ISUP (SIP-I, RFC 3204 / RFC 5621): the SDP part', () => {
    const body = `--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--unique-boundary-1\r\nContent-Type: application/ISUP;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x00\x49\x00\r\n--unique-boundary-1--\r\n`;
    expect(sdpOf(msg('multipart/mixed;boundary=unique-boundary-1', body))).toBe(sdp);
    expect(sdpOf(msg('multipart/mixed; boundary="unique-boundary-1"', body))).toBe(sdp);
  });

  test('no SDP, other bodies, broken multipart', () => {
    expect(sdpOf(createRequest('INVITE', 'sip:x@y'))).toBeUndefined();
    expect(sdpOf(msg('application/dtmf-relay', 'Signal=5\r\n'))).toBeUndefined();
    expect(() => sdpOf(msg('multipart/mixed', 'x'))).toThrow(SipBodyError);
    expect(() => sdpOf(msg('multipart/mixed;boundary=b', '--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n'))).toThrow(/closing boundary/);
  });
});
