import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, fakeWav, freshLine } from './harness.js';

/** The store's 'mailboxChanged' event, which MWI (src/mwi/) listens to: one per change of a line's messages. */
describe.each(ENGINES)('store mailboxChanged on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  let now = Date.UTC(2026, 0, 1);
  const changed: string[] = [];
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open({ clock: () => now });
    store.events.on('mailboxChanged', (line: string) => void changed.push(line));
  });
  afterAll(async () => tdb.cleanup());

  test('create, move, markHeard, delete and deleteOlderThan each tell the line; reads do not', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    const other = (await store.lines.create({ number: freshLine() })).number;
    changed.length = 0;
    const deposit = (l: string) => store.messages.create({ line: l, caller: '+33612345678', callee: l, durationMs: 1000, wav: fakeWav(8000, 1) });
    const a = (await deposit(line)).message;
    expect(changed).toEqual([line]);
    await store.messages.list({ line });
    await store.messages.countByDir(line);
    expect(changed).toEqual([line]);
    await store.messages.move(a.id, 'work');
    await store.messages.markHeard(a.id);
    await store.messages.delete(a.id);
    expect(changed).toEqual([line, line, line, line]);
    await deposit(line);
    await deposit(other);
    changed.length = 0;
    now += 1000;
    await store.messages.deleteOlderThan(now);
    expect(changed.sort()).toEqual([line, other].sort());
    changed.length = 0;
    await store.messages.deleteOlderThan(now);
    expect(changed).toEqual([]);
  });
});
