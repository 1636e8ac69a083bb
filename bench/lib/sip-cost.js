'use strict';
/**
 * What the server does with one SIP datagram before it answers or drops it, in-process (issue 11 bench and
 * test): parseMessage(), and for an INVITE with a body what the user agent does before spending anything on it,
 * sdpOf() (multipart included) then answerOffer(). Returns the outcome as a short string.
 */
const { join } = require('node:path');

async function loadCost(dist) {
  const { parseMessage } = await import(join(dist, 'sip', 'parser.js'));
  const { sdpOf } = await import(join(dist, 'sip', 'body.js'));
  const { answerOffer } = await import(join(dist, 'sip', 'sdp.js'));
  const local = { address: '0.0.0.0', port: 9, sessionId: '0', sessionVersion: 0 };
  /** @param {Buffer} bytes */
  return function cost(bytes) {
    let msg;
    try {
      msg = parseMessage(bytes);
    } catch (e) {
      if (e && typeof e.status === 'number') return `${e.status} ${e.reason}`;
      throw e;
    }
    if (msg.kind !== 'request' || msg.method !== 'INVITE' || msg.body.length === 0) return 'parsed';
    let offer;
    try {
      offer = sdpOf(msg);
    } catch (e) {
      if (e && e.name === 'SipBodyError') return `body 400 ${e.message}`;
      throw e;
    }
    if (offer === undefined) return 'sdp none';
    try {
      answerOffer(offer, local);
      return 'sdp ok';
    } catch (e) {
      if (e && e.name === 'SdpNegotiationError') return `sdp 488 ${e.message}`;
      throw e;
    }
  };
}

module.exports = { loadCost };
