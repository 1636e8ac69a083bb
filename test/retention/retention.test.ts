import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { RetentionConfigError, RetentionSweeper } from '../../src/retention/index.js';
import type { Store } from '../../src/store/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { ENGINES, TestDatabase, freshLine, toneWav } from '../notify/harness.js';
import { until } from '../helpers/wait.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 10, 12, 0, 0);

describe.each(ENGINES)('retention on %s', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let clock: ManualClock;
  let now: number;
  beforeEach(async () => {
    clock = new ManualClock(T0);
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
    clock.advance(100 * DAY);
    now = clock.wallNow();
    const recent = (await deposit(line)).message.id;
    const sweeper = new RetentionSweeper({ store, maxAgeDays: 183, sweepIntervalSeconds: 3600, clock });
    expect(await sweeper.sweep()).toEqual({ deleted: [] });

    clock.advance(84 * DAY);
    now = clock.wallNow();
    const { deleted } = await sweeper.sweep();
    expect(deleted.sort()).toEqual([...old].sort());
    expect((await store.messages.list({ line })).map((m) => m.id)).toEqual([recent]);
    const log = await store.retentionLog.list({ line });
    expect(log.map((e) => e.reason)).toEqual(['age', 'age']);
    expect(log.map((e) => e.messageId).sort()).toEqual([...old].sort());
    expect(log[0]!.details).toMatchObject({ cutoff: now - 183 * DAY, creationDatetime: T0 });
  });

  test('start() sweeps at once, then at each interval, and stop() ends the periodic sweep', async () => {
    const line = freshLine();
    await store.lines.create({ number: line });
    await deposit(line);
    clock.advance(365 * DAY);
    now = clock.wallNow();
    const sweeper = RetentionSweeper.fromConfig(
      { retention: { maxMessages: 100, maxAgeDays: 183, sweepIntervalSeconds: 86_400 } },
      store,
      { clock },
    );
    sweeper.start();
    await until('the start-up sweep', async () => (await store.messages.list({ line })).length === 0);
    expect((await store.retentionLog.list({ line }))[0]!.reason).toBe('age');

    // A message that becomes too old between two daily sweeps goes at the next one.
    clock.advance(1000);
    now = clock.wallNow();
    await deposit(line);
    clock.advance(183 * DAY);
    expect(await sweeper.sweep()).toEqual({ deleted: [] });
    expect(await store.messages.list({ line })).toHaveLength(1);
    clock.advance(DAY);
    await until('the periodic sweep', async () => (await store.messages.list({ line })).length === 0);
    await sweeper.stop();
    expect(clock.pending).toBe(0);
  });
});

test('RetentionSweeper rejects bad options by name', () => {
  const store = { messages: {} } as unknown as Store;
  expect(() => new RetentionSweeper({ store, maxAgeDays: 0, sweepIntervalSeconds: 10 })).toThrow(RetentionConfigError);
  expect(() => new RetentionSweeper({ store, maxAgeDays: 10, sweepIntervalSeconds: 0.5 })).toThrow(/sweepIntervalSeconds/);
});
