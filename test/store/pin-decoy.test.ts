/**
 * Issue 11: "the same work and time for unknown lines as for real ones". Every PIN check — right or wrong PIN
 * on a provisioned line, a line without PIN (or unknown: no stored hash), a malformed stored hash, a PIN of the
 * wrong shape — costs exactly one scrypt derivation with the same parameters and key length, so the time a
 * wrong PIN takes does not tell provisioned lines from others.
 */
import { expect, jest, test } from '@jest/globals';
import { hashPin, verifyPinOrDecoy } from '../../src/store/pin.js';

// The module object pin.ts calls scrypt through (CommonJS under ts-jest), so a spy sees its calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeCrypto = require('node:crypto') as typeof import('node:crypto');

test('one scrypt derivation with the same parameters, whatever the line and the PIN', async () => {
  const stored = await hashPin('1234');
  await verifyPinOrDecoy('0000', null); // the decoy hash is made once, on first use
  const spy = jest.spyOn(nodeCrypto, 'scrypt');
  try {
    const cases: Array<[string, string | null | undefined, boolean, boolean]> = [
      ['1234', stored, true, true],
      ['0000', stored, true, false],
      ['0000', null, true, false],
      ['0000', undefined, true, false],
      ['0000', 'scrypt$N=16384,r=8,p=1$$', true, false],
      ['not-a-pin-'.repeat(100), stored, false, false],
    ];
    const work: string[] = [];
    for (const [pin, hash, shapeOk, expected] of cases) {
      spy.mockClear();
      expect(await verifyPinOrDecoy(pin, hash, shapeOk)).toBe(expected);
      expect(spy).toHaveBeenCalledTimes(1);
      const [, salt, keylen, options] = spy.mock.calls[0] as unknown as [unknown, Buffer, number, { N: number; r: number; p: number }];
      work.push(JSON.stringify({ saltBytes: salt.length, keylen, N: options.N, r: options.r, p: options.p }));
    }
    expect(new Set(work).size).toBe(1);
  } finally {
    spy.mockRestore();
  }
});
