/** callerAddress: the PIN-failure `remote` behind trusted proxies, read from the Via stack. */
import { describe, expect, test } from '@jest/globals';
import { callerAddress } from '../../src/ivr/caller-address.js';
import { Headers, createRequest } from '../../src/sip/message.js';

function invite(...vias: string[]) {
  const headers = new Headers();
  for (const v of vias) headers.append('Via', v);
  return createRequest('INVITE', 'sip:+33912345678@example.org', headers);
}

const PROXY = '10.0.0.5';
const viaProxy = `SIP/2.0/UDP ${PROXY}:5060;branch=z9hG4bKproxy`;

describe('callerAddress', () => {
  test('no trusted proxies: the packet source', () => {
    expect(callerAddress(invite(viaProxy, 'SIP/2.0/UDP 192.168.1.2:5060;received=203.0.113.7;branch=z9hG4bKua'), PROXY, [])).toBe(PROXY);
  });

  test('from a trusted proxy: the received address the proxy recorded in the UA\'s Via', () => {
    expect(callerAddress(invite(viaProxy, 'SIP/2.0/UDP 192.168.1.2:5060;received=203.0.113.7;rport=4321;branch=z9hG4bKua'), PROXY, [PROXY])).toBe('203.0.113.7');
  });

  test('from a trusted proxy, no received (sent-by was right): the sent-by host', () => {
    expect(callerAddress(invite(viaProxy, 'SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bKua'), PROXY, [PROXY])).toBe('198.51.100.9');
  });

  test('two trusted proxies in a row, then the client', () => {
    const edge = 'SIP/2.0/UDP 10.0.0.9:5060;received=10.0.0.9;branch=z9hG4bKedge';
    expect(callerAddress(invite(viaProxy, edge, 'SIP/2.0/UDP 192.168.1.2;received=203.0.113.8;branch=z9hG4bKua'), PROXY, [PROXY, '10.0.0.9'])).toBe('203.0.113.8');
  });

  test('a source that is not a trusted proxy cannot forge its address with a Via', () => {
    expect(callerAddress(invite('SIP/2.0/UDP 203.0.113.66;branch=z9hG4bKx', 'SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKy'), '203.0.113.66', [PROXY])).toBe('203.0.113.66');
  });

  test('comma-combined Via values and a malformed Via below the proxy', () => {
    expect(callerAddress(invite(`${viaProxy}, SIP/2.0/UDP 192.168.1.2;received=203.0.113.9;branch=z9hG4bKua`), PROXY, [PROXY])).toBe('203.0.113.9');
    expect(callerAddress(invite(viaProxy, 'garbage'), PROXY, [PROXY])).toBe(PROXY);
  });
});
