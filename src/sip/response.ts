import { createResponseMessage, Headers, REASON_PHRASES, type SipRequest, type SipResponse } from './message.js';

/**
 * Builds a response to `req` (RFC 3261 §8.2.6.2):
 * "The From field of the response MUST equal the From header field of the request. The Call-ID header field of
 * the response MUST equal the Call-ID header field of the request. The CSeq header field of the response MUST
 * equal the CSeq field of the request. The Via header field values in the response MUST equal the Via header
 * field values in the request and MUST maintain the same ordering."
 * "If a request contained a To tag in the request, the To header field in the response MUST equal that of the
 * request. However, if the To header field in the request did not contain a tag, the URI in the To header field
 * in the response MUST equal the URI in the To header field; additionally, the UAS MUST add a tag to the To
 * header field in the response (with the exception of the 100 (Trying) response...)"
 */
export function createResponse(req: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const h = new Headers();
  for (const v of req.headers.getAll('Via')) h.append('Via', v);
  const from = req.headers.get('From');
  if (from !== undefined) h.append('From', from);
  let to = req.headers.get('To');
  if (to !== undefined && toTag && status !== 100 && !/;\s*tag=/i.test(to)) to = `${to};tag=${toTag}`;
  if (to !== undefined) h.append('To', to);
  const callId = req.headers.get('Call-ID');
  if (callId !== undefined) h.append('Call-ID', callId);
  const cseq = req.headers.get('CSeq');
  if (cseq !== undefined) h.append('CSeq', cseq);
  // §8.2.6.1: "the Timestamp header field ... MUST be copied" into a 100 (Trying).
  const ts = req.headers.get('Timestamp');
  if (status === 100 && ts !== undefined) h.append('Timestamp', ts);
  return createResponseMessage(status, reason ?? REASON_PHRASES[status] ?? 'Unknown', h);
}

/**
 * A warn-text (RFC 3261 §20.43: `warn-text = quoted-string`): a quoted-string holds no raw `"` or `\` (§25.1:
 * `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)`) and no CR or LF, so those are escaped or replaced, and the
 * text is kept short (an error message may quote what the peer sent).
 */
export function warnText(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 160);
  return `"${clean.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The one 488 (Not Acceptable Here) we send, to an INVITE or a re-INVITE whose offer we cannot take.
 * §21.4.26: "The response MAY contain a Warning header field describing why the offer was rejected"; §20.43:
 * "304 Media type not available: The site where the user is located does not support the media type listed in the
 * session description" / "305 Incompatible media format: One or more media formats listed in the session
 * description are not understood" / "399 Miscellaneous warning". §20.43: "the warn-agent ... is the hostname or
 * pseudonym of the server". `Accept` names the body we read (§20.1).
 */
export function createNotAcceptableHere(req: SipRequest, problem: { readonly warnCode: 304 | 305 | 399; readonly message: string }, toTag?: string): SipResponse {
  const res = createResponse(req, 488, 'Not Acceptable Here', toTag);
  res.headers.append('Warning', `${problem.warnCode} repondeur ${warnText(problem.message)}`);
  res.headers.append('Accept', 'application/sdp');
  return res;
}
