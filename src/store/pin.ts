import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Stored PIN hash format (one string, self-describing so parameters can be raised later):
 *
 *   scrypt$N=16384,r=8,p=1$<salt, base64>$<derived key, base64>
 */
const SCHEME = 'scrypt';
const DEFAULT_PARAMS = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

function derive(pin: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, keylen, { ...options, maxmem: 256 * options.N! * options.r! + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a PIN with scrypt and a fresh random salt. The caller validates the PIN's shape first. */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(pin, salt, KEY_BYTES, DEFAULT_PARAMS);
  const { N, r, p } = DEFAULT_PARAMS;
  return `${SCHEME}$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  params: { N: number; r: number; p: number };
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 4 || parts[0] !== SCHEME) return undefined;
  const params = Object.fromEntries(
    parts[1]!.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      return [k, Number(v)];
    }),
  ) as Record<string, number>;
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || !Number.isSafeInteger(r) || !Number.isSafeInteger(p)) return undefined;
  if (N! < 2 || N! > 2 ** 20 || r! < 1 || r! > 32 || p! < 1 || p! > 16) return undefined;
  const salt = Buffer.from(parts[2]!, 'base64');
  const key = Buffer.from(parts[3]!, 'base64');
  if (salt.length === 0 || key.length === 0) return undefined;
  return { params: { N: N!, r: r!, p: p! }, salt, key };
}

/**
 * Checks `pin` against a stored hash, comparing the derived keys in constant time (timingSafeEqual).
 * A malformed stored hash never matches.
 */
export async function verifyPinHash(pin: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  const candidate = await derive(pin, parsed.salt, parsed.key.length, parsed.params);
  return timingSafeEqual(candidate, parsed.key);
}

/**
 * A hash no PIN is known to match, verified in place of the real one for an unknown line (or one without PIN):
 * the client waits for one scrypt derivation either way and cannot tell provisioned lines from others.
 */
let decoyHash: Promise<string> | undefined;
function decoy(): Promise<string> {
  decoyHash ??= hashPin(randomBytes(16).toString('hex'));
  return decoyHash;
}

/**
 * Checks `pin` against `stored`, or against the decoy hash when there is no (well-formed) stored hash or the
 * PIN has not the expected shape: always one scrypt derivation, so the time taken reveals nothing.
 */
export async function verifyPinOrDecoy(pin: string, stored: string | null | undefined, pinShapeOk = true): Promise<boolean> {
  if (stored == null || !pinShapeOk || parseHash(stored) === undefined) {
    await verifyPinHash(pin.slice(0, 64), await decoy());
    return false;
  }
  return verifyPinHash(pin, stored);
}
