import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { computeLockedUntil, ValidationError, type Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, freshLine } from './harness.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1);

describe('computeLockedUntil', () => {
  const policy = { maxFailures: 3, windowMs: 10 * MIN, lockMs: 15 * MIN };
  test('locks only when maxFailures fall inside one window, until the last + lockMs', () => {
    expect(computeLockedUntil([0, MIN], 2 * MIN, policy)).toBeNull();
    expect(computeLockedUntil([0, MIN, 2 * MIN], 3 * MIN, policy)).toBe(17 * MIN);
    expect(computeLockedUntil([0, MIN, 2 * MIN], 17 * MIN, policy)).toBeNull();
    // Spread over more than the window: no lock.
    expect(computeLockedUntil([0, 6 * MIN, 12 * MIN], 12 * MIN, policy)).toBeNull();
    // A lock longer than the window still holds after the window has passed.
    expect(computeLockedUntil([0, MIN, 2 * MIN], 12 * MIN + 1, policy)).toBe(17 * MIN);
  });
});

describe.each(ENGINES)('auth failures on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open({ clock: () => T0 });
  });
  afterAll(async () => tdb.cleanup());

  test('five failures in 15 minutes lock the line for 15 minutes; older ones do not count', async () => {
    const line = freshLine();
    await store.lines.create({ number: line, pin: '4321' });
    // One failure long ago, then four recent ones: not locked.
    await store.authFailures.record({ line, source: 'web', remote: '192.0.2.1', at: T0 - 60 * MIN });
    for (let i = 0; i < 4; i++) await store.authFailures.record({ line, source: 'dialin', remote: '+33600000000', at: T0 + i * MIN });
    expect(await store.authFailures.count(line, T0 - 15 * MIN)).toBe(4);
    expect(await store.authFailures.lockedUntil(line, T0 + 4 * MIN)).toBeNull();
    // The fifth, from the web, locks across channels.
    await store.authFailures.record({ line, source: 'web', remote: '192.0.2.1', at: T0 + 5 * MIN });
    expect(await store.authFailures.lockedUntil(line, T0 + 5 * MIN)).toBe(T0 + 20 * MIN);
    expect(await store.authFailures.lockedUntil(line, T0 + 20 * MIN - 1)).toBe(T0 + 20 * MIN);
    expect(await store.authFailures.lockedUntil(line, T0 + 20 * MIN)).toBeNull();
    // A custom policy.
    expect(await store.authFailures.lockedUntil(line, T0 + 5 * MIN, { maxFailures: 6 })).toBeNull();
    await expect(store.authFailures.lockedUntil(line, T0, { maxFailures: 0 })).rejects.toBeInstanceOf(ValidationError);

    const listed = await store.authFailures.list({ line });
    expect(listed).toHaveLength(6);
    expect(listed[0]).toMatchObject({ line, source: 'web', remote: '192.0.2.1', at: T0 + 5 * MIN });

    expect(await store.authFailures.clear(line)).toBe(6);
    expect(await store.authFailures.lockedUntil(line, T0 + 5 * MIN)).toBeNull();
    expect(await store.authFailures.list({ line })).toEqual([]);
  });

  test('failures against unknown numbers are recorded; prune removes old ones', async () => {
    const ghost = freshLine();
    const f = await store.authFailures.record({ line: ghost, source: 'web' });
    expect(f).toMatchObject({ line: ghost, source: 'web', remote: null, at: T0 });
    await expect(store.authFailures.record({ line: ghost, source: 'sms' as 'web' })).rejects.toThrow(/source must be dialin or web/);
    expect(await store.authFailures.prune(T0 + 1)).toBeGreaterThanOrEqual(1);
    expect(await store.authFailures.list({ line: ghost })).toEqual([]);
  });

  test('deleting a line forgets its failures', async () => {
    const line = freshLine();
    await store.lines.create({ number: line });
    await store.authFailures.record({ line, source: 'dialin' });
    await store.lines.delete(line);
    expect(await store.authFailures.count(line, 0)).toBe(0);
  });
});
