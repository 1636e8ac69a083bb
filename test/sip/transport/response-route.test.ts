import { describe, expect, test } from '@jest/globals';
import { parseVia } from '../../../src/sip/headers.js';
import { normalizeAddress, routeResponse } from '../../../src/sip/transport/response-route.js';
import type { Peer } from '../../../src/sip/message.js';

const udpSource: Peer = { transport: 'UDP', address: '198.51.100.9', port: 40000 };
const tcpSource: Peer = { transport: 'TCP', address: '198.51.100.9', port: 40001, connectionId: 7 };

describe('routeResponse', () => {
  test('UDP with received and rport: received:rport (RFC 3581 §4)', () => {
    expect(routeResponse(parseVia('SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKa;received=198.51.100.9;rport=40000'), udpSource))
      .toEqual({ transport: 'UDP', address: '198.51.100.9', port: 40000 });
  });

  test('UDP with received only: received and the sent-by port, or 5060', () => {
    expect(routeResponse(parseVia('SIP/2.0/UDP 10.0.0.1:5062;received=198.51.100.9'), udpSource)).toMatchObject({ address: '198.51.100.9', port: 5062 });
    expect(routeResponse(parseVia('SIP/2.0/UDP 10.0.0.1;received=198.51.100.9'), udpSource)).toMatchObject({ address: '198.51.100.9', port: 5060 });
  });

  test('UDP without received: the sent-by host and port', () => {
    expect(routeResponse(parseVia('SIP/2.0/UDP 192.0.2.3:5070;branch=z9hG4bKb'), udpSource)).toEqual({ transport: 'UDP', address: '192.0.2.3', port: 5070 });
  });

  test('UDP with maddr: maddr and the sent-by port', () => {
    expect(routeResponse(parseVia('SIP/2.0/UDP 192.0.2.3;maddr=239.255.255.1;received=198.51.100.9;rport=1'), udpSource))
      .toEqual({ transport: 'UDP', address: '239.255.255.1', port: 5060 });
  });

  test('TCP: the source connection first, then received and sent-by port', () => {
    expect(routeResponse(parseVia('SIP/2.0/TCP host.example.com:5080;received=198.51.100.9'), tcpSource))
      .toEqual({ transport: 'TCP', address: '198.51.100.9', port: 5080, connectionId: 7 });
    expect(routeResponse(parseVia('SIP/2.0/TCP host.example.com'), udpSource)).toEqual({ transport: 'TCP', address: 'host.example.com', port: 5060 });
  });

  test('unsupported transports throw', () => {
    expect(() => routeResponse(parseVia('SIP/2.0/TLS host.example.com'), udpSource)).toThrow(/TLS/);
  });

  test('normalizeAddress strips the IPv4-mapped prefix only', () => {
    expect(normalizeAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress('::ffff:abcd')).toBe('::ffff:abcd');
    expect(normalizeAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
