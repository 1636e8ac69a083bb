/**
 * Finding the session description in a message body: `application/sdp` itself, or the SDP part of a
 * `multipart/mixed` or `multipart/alternative` body (RFC 5621 — e.g. SDP + ISUP from SIP-I trunks, RFC 3204).
 */
import type { SipMessage } from './message.js';

export class SipBodyError extends Error {
  override name = 'SipBodyError';
}

/** The media type of a Content-Type value, lower-case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function boundaryOf(contentType: string): string {
  // RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace, given as a (possibly quoted) parameter.
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new SipBodyError('multipart body without a boundary parameter');
  return b;
}

/** More body parts than this is refused (issue 11): SIP-I trunks send two or three (RFC 5621 §3, RFC 3204). */
export const MAX_MULTIPART_PARTS = 16;

/** The parts of a multipart body (RFC 2046 §5.1): headers (lower-case names) and content. */
export function multipartParts(body: Buffer, contentType: string): Array<{ headers: Map<string, string>; content: Buffer }> {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const parts: Array<{ headers: Map<string, string>; content: Buffer }> = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new SipBodyError('multipart body: boundary not found');
  for (;;) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // close-delimiter
    const eol = body.indexOf('\r\n', start);
    if (eol < 0) break;
    start = eol + 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new SipBodyError('multipart body: missing closing boundary');
    if (parts.length === MAX_MULTIPART_PARTS) throw new SipBodyError(`multipart body of more than ${MAX_MULTIPART_PARTS} parts`);
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    const end = body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next;
    const part = body.subarray(start, end);
    const split = part.indexOf('\r\n\r\n');
    const headerText = split < 0 ? part.toString('utf8') : part.subarray(0, split).toString('utf8');
    const headers = new Map<string, string>();
    for (const line of headerText.split('\r\n')) {
      const c = line.indexOf(':');
      if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
    }
    parts.push({ headers, content: split < 0 ? Buffer.alloc(0) : part.subarray(split + 4) });
    at = next;
  }
  return parts;
}

/** The SDP carried by a message, or undefined when it has none. Throws SipBodyError on a broken multipart body. */
export function sdpOf(msg: SipMessage): string | undefined {
  if (msg.body.length === 0) return undefined;
  const contentType = msg.headers.get('Content-Type') ?? 'application/sdp';
  const type = mediaType(contentType);
  if (type === 'application/sdp') return msg.body.toString('utf8');
  if (type.startsWith('multipart/')) {
    const part = multipartParts(msg.body, contentType).find((p) => mediaType(p.headers.get('content-type')) === 'application/sdp');
    return part ? part.content.toString('utf8') : undefined;
  }
  return undefined;
}
