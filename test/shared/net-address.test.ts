import { expect, test } from '@jest/globals';
import { isIPv4 } from 'node:net';
import { advertisedAddress } from '../../src/shared/net-address.js';

test('the public address wins, a real bind address is kept, a wildcard bind never reaches SDP as 0.0.0.0', () => {
  expect(advertisedAddress('0.0.0.0', '203.0.113.9')).toBe('203.0.113.9');
  expect(advertisedAddress('192.0.2.4')).toBe('192.0.2.4');
  for (const wildcard of ['0.0.0.0', '::']) {
    const a = advertisedAddress(wildcard);
    expect(isIPv4(a)).toBe(true);
    expect(a).not.toBe('0.0.0.0');
  }
});
