/**
 * Checks every UAS applies to a request before acting on it (RFC 3261 §8.2.1–§8.2.3).
 */
import type { SipRequest } from './message.js';

export interface RequestProblem {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

/** Extensions we implement (none needs a Require today). */
const SUPPORTED_EXTENSIONS = new Set<string>([]);

const BODY_TYPES: Record<string, string[]> = {
  // RFC 5621: SDP may come inside a multipart body (e.g. with ISUP from SIP-I trunks); sdpOf() finds it.
  INVITE: ['application/sdp', 'multipart/mixed', 'multipart/alternative'],
  ACK: ['application/sdp', 'multipart/mixed', 'multipart/alternative'],
  INFO: ['application/dtmf-relay', 'application/dtmf'],
};

export function checkRequest(req: SipRequest): RequestProblem | null {
  // §8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the request with a 416
  // (Unsupported URI Scheme) response."
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(req.uri)?.[1]?.toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
    return { status: 416, reason: `Unsupported URI Scheme ${scheme ?? '(none)'}` };
  }
  // §8.2.2.3: "If a UAS does not understand an option-tag listed in a Require header field, it MUST respond by
  // generating a response with status code 420 (Bad Extension). The UAS MUST add an Unsupported header field".
  // "An ACK or CANCEL request ... MUST NOT be rejected for unsupported extensions".
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const required = req.headers
      .getAll('Require')
      .flatMap((v) => v.split(','))
      .map((t) => t.trim())
      .filter((t) => t && !SUPPORTED_EXTENSIONS.has(t.toLowerCase()));
    if (required.length > 0) return { status: 420, reason: 'Bad Extension', headers: { Unsupported: required.join(', ') } };
  }
  // §8.2.3: "If the UAS does not understand the message body ... it MUST reject the request with a 415 (Unsupported
  // Media Type) response. The response MUST contain an Accept header field listing the types of all bodies it
  // understands".
  if (req.body.length > 0 && req.method !== 'ACK') {
    const accepted = BODY_TYPES[req.method];
    const type = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (accepted && !accepted.includes(type)) {
      return { status: 415, reason: 'Unsupported Media Type', headers: { Accept: accepted.join(', ') } };
    }
    const encoding = (req.headers.get('Content-Encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') return { status: 415, reason: 'Unsupported Content-Encoding', headers: { 'Accept-Encoding': 'identity' } };
  }
  // Our 2xx to an INVITE always carries SDP. §20.1: "If no Accept header field is present, the server SHOULD
  // assume a default value of application/sdp." §21.4.7 406 Not Acceptable: "The resource identified by the
  // request is only capable of generating response entities that have content characteristics not acceptable
  // according to the Accept header field sent in the request." (RFC 4475 §3.3.9 sdp01.) The parser has split
  // Accept into one value per media range; an empty Accept accepts nothing.
  if (req.method === 'INVITE' && req.headers.has('Accept') && !acceptsSdp(req.headers.getAll('Accept'))) {
    return { status: 406, reason: 'Not Acceptable', headers: { Accept: 'application/sdp' } };
  }
  return null;
}

/** True when one media range of the Accept values covers application/sdp (with a q other than 0). */
function acceptsSdp(values: string[]): boolean {
  for (const value of values) {
    for (const range of value.split(',')) {
      const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
      if (type !== 'application/sdp' && type !== 'application/*' && type !== '*/*') continue;
      const q = params.find((p) => p.startsWith('q='));
      if (q === undefined || Number(q.slice(2)) > 0) return true;
    }
  }
  return false;
}
