/** Crashes the fuzzer found, kept as plain regression tests. */
import { expect, test } from '@jest/globals';
import { answerOffer } from '../../src/sip/sdp.js';

test('sdp: a numeric-looking c= address ("100.1", made a number by sdp-transform) does not crash the answer', () => {
  const offer = 'v=0\r\no=- 1 1 IN IP4 10.10.100.1\r\ns=-\r\nc=IN IP4 100.1\r\nt=0 0\r\nm=audio 10 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  const { media } = answerOffer(offer, { address: '192.0.2.1', port: 40000, sessionId: '1', sessionVersion: 1 });
  expect(media.remoteAddress).toBe('100.1');
  expect(media.remotePort).toBe(10);
});

test('sdp: an rtpmap without encoding name ("a=rtpmap:112 8000", a number to sdp-transform) does not crash the answer', () => {
  const offer = 'v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 24 RTP/AVP 0 8 112\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:112 8000\r\n';
  const { media } = answerOffer(offer, { address: '192.0.2.1', port: 40000, sessionId: '1', sessionVersion: 1 });
  expect(media.codec).toBe('PCMU');
  expect(media.telephoneEventPayloadTypes).toEqual([]);
});
