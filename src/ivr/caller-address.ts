/**
 * The caller's network address as an operator expects it in PIN-failure records and logs: behind a proxy
 * (Kamailio in front of several nodes) the packet's source is the proxy, so the address is read from the Via
 * stack instead, but only across hops listed in `sip.trustedProxies` — a Via from anyone else can be forged.
 *
 * Each proxy pushes its own Via on top; the Via just below the one of a trusted proxy was received by that proxy,
 * which recorded the address it came from in `received` (RFC 3261 §18.2.1: "the server MUST add a "received"
 * parameter to that Via header field value" when the sent-by host differs from the packet source) — or, when
 * sent-by already was that address, in sent-by itself. Walking down from the top while the current hop is
 * trusted yields the first untrusted address: the client's.
 */
import type { SipRequest } from '../sip/message.js';
import { parseVia, splitTopLevel } from '../sip/headers.js';

/** The address of the client that sent `request`, received from `sourceAddress` (see the module comment). */
export function callerAddress(request: SipRequest, sourceAddress: string, trustedProxies: readonly string[]): string {
  if (trustedProxies.length === 0 || !trustedProxies.includes(sourceAddress)) return sourceAddress;
  const vias = request.headers.getAll('Via').flatMap((v) => splitTopLevel(v, ','));
  let address = sourceAddress;
  // vias[0] is the trusted proxy's own; vias[i] (i ≥ 1) is the hop that proxy i-1 received the request from.
  for (let i = 1; i < vias.length && trustedProxies.includes(address); i++) {
    let via;
    try {
      via = parseVia(vias[i]!);
    } catch {
      return address; // a malformed Via below a trusted proxy: the last trusted hop is all we know
    }
    address = via.received ?? via.host;
  }
  return address;
}
