import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { NotFoundError, type Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, fakeWav, freshLine } from './harness.js';

describe.each(ENGINES)('greetings on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open({ clock: () => 1_700_000_000_000 });
  });
  afterAll(async () => tdb.cleanup());

  test('put, get, replace, list and delete, one per kind', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    expect(await store.greetings.get(line, 'unavail')).toBeUndefined();
    const wav = fakeWav(16_000, 5);
    const info = await store.greetings.put(line, 'unavail', { wav, durationMs: 2_600 });
    expect(info).toEqual({ line, kind: 'unavail', durationMs: 2_600, duration: 3, creationDatetime: 1_700_000_000_000, size: wav.length });
    const got = await store.greetings.get(line, 'unavail');
    expect(got?.wav.equals(wav)).toBe(true);

    const wav2 = fakeWav(8_000, 6);
    await store.greetings.put(line, 'unavail', { wav: wav2, durationMs: 1_000, creationDatetime: 5 });
    const replaced = await store.greetings.get(line, 'unavail');
    expect(replaced?.wav.equals(wav2)).toBe(true);
    expect(replaced).toMatchObject({ durationMs: 1_000, creationDatetime: 5 });

    await store.greetings.put(line, 'name', { wav: fakeWav(100), durationMs: 900 });
    const list = await store.greetings.list(line);
    expect(list.map((g) => g.kind)).toEqual(['name', 'unavail']);
    for (const g of list) expect(Object.keys(g)).not.toContain('wav');

    expect(await store.greetings.delete(line, 'unavail')).toBe(true);
    expect(await store.greetings.delete(line, 'unavail')).toBe(false);
    expect((await store.greetings.list(line)).map((g) => g.kind)).toEqual(['name']);
  });

  test('unknown line and bad kind are rejected; greetings go with their line', async () => {
    const ghost = freshLine();
    await expect(store.greetings.put(ghost, 'busy', { wav: fakeWav(10), durationMs: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.greetings.get(ghost, 'busy')).rejects.toBeInstanceOf(NotFoundError);
    const line = (await store.lines.create({ number: freshLine() })).number;
    await expect(store.greetings.put(line, 'hello' as 'busy', { wav: fakeWav(10), durationMs: 1 })).rejects.toThrow(
      /kind must be one of unavail, busy, greet, temp, name/,
    );
    await store.greetings.put(line, 'temp', { wav: fakeWav(10), durationMs: 1 });
    await store.lines.delete(line);
    const rows = await store.db.selectFrom('greetings').select('kind').where('line', '=', line).execute();
    expect(rows).toEqual([]);
  });
});
