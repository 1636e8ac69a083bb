/**
 * Issue 11 "hostile input": 64 KB datagrams built to make a naive parser quadratic. Each must be parsed or
 * refused with a SipParseError — only the outcome is asserted here (the cost per parse is in `npm run bench:parser`).
 */
import { describe, expect, test } from '@jest/globals';
import { parseMessage, SipParseError } from '../../src/sip/parser.js';
import { ADVERSARIAL_DATAGRAMS } from '../../bench/lib/adversarial-sip.js';

function outcome(buf: Buffer): string {
  try {
    parseMessage(buf);
    return 'parsed';
  } catch (e) {
    if (e instanceof SipParseError) return `${e.status} ${e.reason}`;
    throw e;
  }
}

describe('adversarial 64 KB datagrams are parsed or refused', () => {
  const expected: Record<string, string> = {
    'whitespace runs + folds': '400 Whitespace Run Too Long',
    '5,000 spaces in a header name': '400 Whitespace Run Too Long',
    'thousands of headers': '400 Too Many Headers',
    'thousands of commas in a list header': '400 Too Many Header Values',
    'deeply nested angle brackets': expect.stringMatching(/^400 (Header Line Too Long|Malformed)/) as unknown as string,
    'deeply nested quotes': expect.stringMatching(/^400 (Header Line Too Long|Malformed)/) as unknown as string,
    'thousands of folds of one header': '400 Header Line Too Long',
  };
  test.each(ADVERSARIAL_DATAGRAMS.map((d) => [d.name, d] as const))('%s', (name, d) => {
    expect(d.bytes.length).toBeGreaterThan(60_000);
    expect(d.bytes.length).toBeLessThanOrEqual(65_535);
    expect(outcome(d.bytes)).toEqual(expected[name]);
  });

  test('a request just inside every limit still parses', () => {
    const ok = ADVERSARIAL_DATAGRAMS.length > 0 && parseMessage(Buffer.from(
      `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nX-Pad: a${' '.repeat(1000)}b\r\nContent-Length: 0\r\n\r\n`,
    ));
    expect(ok && ok.kind).toBe('request');
  });
});
