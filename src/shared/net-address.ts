import os from 'node:os';

/**
 * The address to advertise (SIP Contact/Via, SDP c=) for a socket bound on `bind`: the configured public address
 * when there is one, the bind address when it is a real one, else — for a wildcard bind (0.0.0.0, ::) — the first
 * external IPv4 address of the machine (127.0.0.1 when there is none). Advertising 0.0.0.0 in SDP would put the
 * caller on hold (RFC 2543 §B.5 / RFC 3264 §8.4).
 */
export function advertisedAddress(bind: string, publicHost = ''): string {
  if (publicHost) return publicHost;
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
