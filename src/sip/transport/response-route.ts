import type { Via } from '../headers.js';
import type { Peer, TransportName } from '../message.js';

/** Where a response goes: a transport, an address and port, and for TCP the connection to try first. */
export interface ResponseRoute {
  transport: TransportName;
  address: string;
  port: number;
  connectionId?: number;
}

/** §18.2.2 / §19.1.2: "the default port for that transport" is 5060 for UDP and TCP. */
const DEFAULT_PORT = 5060;

/**
 * Chooses the destination of a response from its top Via (RFC 3261 §18.2.2, RFC 3581 §4) and the peer the
 * request came from. Throws when the Via names a transport we do not speak (TLS, SCTP, WS…).
 */
export function routeResponse(via: Via, source?: Peer): ResponseRoute {
  const sentByPort = via.port ?? DEFAULT_PORT;
  const receivedOrHost = via.received ?? via.host;
  if (via.transport === 'TCP') {
    // §18.2.2: "If the "sent-protocol" is a reliable transport protocol such as TCP or SCTP, or TLS over those,
    // the response MUST be sent using the existing connection to the source of the original request that
    // created the transaction, if that connection is still open. [...] If that connection is no longer open,
    // the server SHOULD open a connection to the IP address in the "received" parameter, if present, using the
    // port in the "sent-by" value, or the default port for that transport, if no port is specified."
    const route: ResponseRoute = { transport: 'TCP', address: receivedOrHost, port: sentByPort };
    if (source?.transport === 'TCP' && source.connectionId !== undefined) route.connectionId = source.connectionId;
    return route;
  }
  if (via.transport !== 'UDP') throw new Error(`unsupported Via transport ${via.transport}`);
  const maddr = via.params.get('maddr');
  if (maddr) {
    // §18.2.2: "Otherwise, if the Via header field value contains a "maddr" parameter, the response MUST be
    // forwarded to the address listed there, using the port indicated in "sent-by", or port 5060 if none is present."
    return { transport: 'UDP', address: maddr, port: sentByPort };
  }
  if (typeof via.rport === 'number') {
    // RFC 3581 §4: "If the "sent-protocol" component indicates an unreliable unicast transport protocol, such as
    // UDP, and there is no "maddr" parameter, but there is both a "received" parameter and an "rport" parameter,
    // the response MUST be sent to the IP address listed in the "received" parameter, and the port in the
    // "rport" parameter."
    return { transport: 'UDP', address: receivedOrHost, port: via.rport };
  }
  // §18.2.2: "Otherwise (for unreliable unicast transports), if the top Via has a "received" parameter, the
  // response MUST be sent to the address in the "received" parameter, using the port indicated in the "sent-by"
  // value, or using port 5060 if none is specified explicitly. [...] Otherwise, if it is not receiver-tagged,
  // the response MUST be sent to the address indicated by the "sent-by" value".
  return { transport: 'UDP', address: receivedOrHost, port: sentByPort };
}

/** Strips the IPv4-mapped prefix a dual-stack socket reports ("::ffff:192.0.2.1" → "192.0.2.1"). */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Key for connection reuse by remote address and port. */
export function remoteKey(address: string, port: number): string {
  return `${normalizeAddress(address).toLowerCase()}|${port}`;
}
