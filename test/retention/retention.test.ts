import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { RetentionConfigError, RetentionSweeper } from '../../src/retention/index.js';
import type { Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, eventually, freshLine, toneWav } from '../notify/harness.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 10, 12, 0, 0);

describe.each(ENGINES)('retention on %s', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let now: number;
  beforeEach(async () => {
    now = T0;
    db = new TestDatabase(engine);
    store = await db.open({ clock: () => now });
  });
  afterEach(async () => db.cleanup());

  const deposit = (line: string, maxMessages = 100) =>
    store.messages.create(
      { line, caller: '+33612345678', callee: line, durationMs: 500, wav: toneWav(0.5) },
      { maxMessages },
    );

  test('the 101st message: 100 kept, the oldest deleted and logged with reason count', async () => {
    const line = freshLine();
    await store.lines.create({ number: line });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      ids.push((await deposit(line)).message.id);
      now += 60_000;
    }
    const result = await deposit(line);
    expect(result.evicted).toEqual([ids[0]]);
    const kept = await store.messages.list({ line });
    expect(kept).toHaveLength(100);
    expect(kept.map((m) => m.id)).toEqual([...ids.slice(1), result.message.id]);
    const log = await store.retentionLog.list({ line });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ messageId: ids[0], reason: 'count', at: now });
  });

  test('the clock jumps six months: old messages disappear, each logged with reason age', async () => {
    const line = freshLine();
    await store.lines.create({ number: line });
    const old = [(await deposit(line)).message.id, (await deposit(line)).message.id];
    now = T0 + 100 * DAY;
    const recent = (await deposit(line)).message.id;
    const sweeper = new RetentionSweeper({ store, maxAgeDays: 183, sweepIntervalSeconds: 3600, clock: () => now });
    expect(await sweeper.sweep()).toEqual({ deleted: [] });

    now = T0 + 184 * DAY;
    const { deleted } = await sweeper.sweep();
    expect(deleted.sort()).toEqual([...old].sort());
    expect((await store.messages.list({ line })).map((m) => m.id)).toEqual([recent]);
    const log = await store.retentionLog.list({ line });
    expect(log.map((e) => e.reason)).toEqual(['age', 'age']);
    expect(log.map((e) => e.messageId).sort()).toEqual([...old].sort());
    expect(log[0]!.details).toMatchObject({ cutoff: now - 183 * DAY, creationDatetime: T0 });
  });

  test('start() sweeps at once and stop() ends the periodic sweep', async () => {
    const line = freshLine();
    await store.lines.create({ number: line });
    await deposit(line);
    now = T0 + 365 * DAY;
    const sweeper = RetentionSweeper.fromConfig(
      { retention: { maxMessages: 100, maxAgeDays: 183, sweepIntervalSeconds: 1 } },
      store,
      { clock: () => now },
    );
    sweeper.start();
    await eventually(async () => (await store.messages.list({ line })).length === 0);
    await sweeper.stop();
    expect((await store.retentionLog.list({ line }))[0]!.reason).toBe('age');
  });
});

test('RetentionSweeper rejects bad options by name', () => {
  const store = { messages: {} } as unknown as Store;
  expect(() => new RetentionSweeper({ store, maxAgeDays: 0, sweepIntervalSeconds: 10 })).toThrow(RetentionConfigError);
  expect(() => new RetentionSweeper({ store, maxAgeDays: 10, sweepIntervalSeconds: 0.5 })).toThrow(/sweepIntervalSeconds/);
});
