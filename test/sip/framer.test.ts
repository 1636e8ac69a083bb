import { describe, expect, test } from '@jest/globals';
import { SipParseError, parseMessage } from '../../src/sip/parser.js';
import { StreamFramer } from '../../src/sip/stream-framer.js';

function message(body: string, callId = 'f1@x'): string {
  return [
    'OPTIONS sip:a@example.com SIP/2.0', 'Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKf', 'From: <sip:b@example.com>;tag=1',
    'To: <sip:a@example.com>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', `Content-Length: ${Buffer.byteLength(body)}`, '', body,
  ].join('\r\n');
}

const texts = (items: ReturnType<StreamFramer['push']>): string[] =>
  items.map((i) => ('message' in i ? i.message.toString() : 'PING'));

describe('StreamFramer', () => {
  test('several messages in one chunk, with a keep-alive between', () => {
    const f = new StreamFramer();
    const a = message('hello');
    const b = message('', 'f2@x');
    expect(texts(f.push(Buffer.from(a + '\r\n\r\n' + b)))).toEqual([a, 'PING', b]);
    expect(f.buffered).toBe(0);
  });

  test('a message split byte by byte across chunks', () => {
    const f = new StreamFramer();
    const a = Buffer.from(message('é body'));
    const out: string[] = [];
    for (let i = 0; i < a.length; i++) out.push(...texts(f.push(a.subarray(i, i + 1))));
    expect(out).toEqual([a.toString()]);
    expect(parseMessage(Buffer.from(out[0]!)).body.toString()).toBe('é body');
  });

  test('a ping split in two chunks and a lone CRLF before a message', () => {
    const f = new StreamFramer();
    expect(f.push(Buffer.from('\r\n'))).toEqual([]);
    expect(texts(f.push(Buffer.from('\r\n')))).toEqual(['PING']);
    const a = message('x');
    expect(texts(f.push(Buffer.from('\r\n' + a)))).toEqual([a]);
  });

  test('body arriving later is waited for', () => {
    const f = new StreamFramer();
    const a = message('0123456789');
    expect(f.push(Buffer.from(a.slice(0, -4)))).toEqual([]);
    expect(texts(f.push(Buffer.from(a.slice(-4) + message('', 'next'))))).toEqual([a, message('', 'next')]);
  });

  test('compact and folded Content-Length are understood', () => {
    const f = new StreamFramer();
    const a = 'OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi';
    const b = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 3\r\n\r\nabc';
    expect(texts(f.push(Buffer.from(a + b)))).toEqual([a, b]);
  });

  test('missing Content-Length throws with the request as partial', () => {
    const f = new StreamFramer();
    const noCl = message('').replace('Content-Length: 0\r\n', '');
    let err: unknown;
    try {
      f.push(Buffer.from(noCl));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipParseError);
    expect((err as SipParseError).reason).toBe('Missing Content-Length');
    expect((err as SipParseError).partial?.method).toBe('OPTIONS');
  });

  test('invalid Content-Length and oversize header section throw', () => {
    expect(() => new StreamFramer().push(Buffer.from(message('').replace('Content-Length: 0', 'Content-Length: -5')))).toThrow('Invalid Content-Length');
    const f = new StreamFramer({ maxHeaderBytes: 1024 });
    expect(() => f.push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'a'.repeat(2000)}`))).toThrow('Message Too Large');
    const g = new StreamFramer({ maxMessageBytes: 2048 });
    let status = 0;
    try {
      g.push(Buffer.from(message('').replace('Content-Length: 0', 'Content-Length: 100000')));
    } catch (e) {
      status = (e as SipParseError).status;
    }
    expect(status).toBe(513);
  });
});
