import { describe, expect, test } from '@jest/globals';
import { UasDialogState } from '../../src/sip/dialog.js';
import { makeRequest, UDP_PEER } from './transactions/helpers.js';

/** An INVITE with these Record-Route values and a Contact, as a proxy chain would deliver it. */
function inviteWith(recordRoutes: string[]) {
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-rr' });
  for (const rr of recordRoutes) invite.headers.append('Record-Route', rr);
  invite.headers.append('Contact', '<sip:alice@198.51.100.7:5062;transport=udp>');
  return new UasDialogState(invite, 'uas1', UDP_PEER, 1);
}

describe('in-dialog requests follow the route set (RFC 3261 §12.1.1, §12.2.1.1)', () => {
  test('loose routing (;lr): Request-URI is the remote target, Route copies the route set in order, next hop is the first route', () => {
    const dialog = inviteWith(['<sip:p1.example.com;lr>', '<sip:p2.example.net;lr;foo=bar>']);
    const { request, nextHopUri } = dialog.buildRequest('BYE', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-b1');
    expect(request.uri).toBe('sip:alice@198.51.100.7:5062;transport=udp');
    expect(request.headers.getAll('Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.net;lr;foo=bar>']);
    expect(nextHopUri).toBe('sip:p1.example.com;lr');
  });

  test('no Record-Route: no Route header, straight to the remote target', () => {
    const { request, nextHopUri } = inviteWith([]).buildRequest('BYE', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-b2');
    expect(request.headers.getAll('Route')).toEqual([]);
    expect(request.uri).toBe('sip:alice@198.51.100.7:5062;transport=udp');
    expect(nextHopUri).toBe(request.uri);
  });

  test('strict routing (first route without ;lr): Request-URI is the first route, the remote target ends the Route list', () => {
    const dialog = inviteWith(['<sip:strict.example.com;maddr=192.0.2.99;method=INVITE;foo=1?X-H=1>', '<sip:p2.example.net;lr>']);
    const { request, nextHopUri } = dialog.buildRequest('BYE', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-b3');
    // "stripping any parameters that are not allowed in a Request-URI": §19.1.1 allows all but method and headers.
    expect(request.uri).toBe('sip:strict.example.com;maddr=192.0.2.99;foo=1');
    expect(request.headers.getAll('Route')).toEqual(['<sip:p2.example.net;lr>', '<sip:alice@198.51.100.7:5062;transport=udp>']);
    expect(nextHopUri).toBe('sip:strict.example.com;maddr=192.0.2.99;method=INVITE;foo=1?X-H=1');
  });
});
