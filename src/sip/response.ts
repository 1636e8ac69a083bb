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
