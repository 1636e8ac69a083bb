import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, fakeWav, freshLine } from './harness.js';

/**
 * The store computes a new message's outbox rows itself, from the line's settings, in the insert's transaction, and
 * emits 'messageStored' (which the mailer listens to) once that transaction has committed.
 */
describe.each(ENGINES)('messages.create enqueues the line e-mails and emits messageStored on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  const stored: [string, string][] = [];
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open();
    store.events.on('messageStored', (id: string, line: string) => void stored.push([id, line]));
  });
  afterAll(async () => tdb.cleanup());

  const deposit = (line: string, options?: Parameters<Store['messages']['create']>[1]) =>
    store.messages.create({ line, caller: '+33612345678', callee: line, durationMs: 1000, wav: fakeWav(800) }, options);

  test("without explicit notifications: one job per (de-duplicated) address of the line, in the line's format", async () => {
    const line = (await store.lines.create({
      number: freshLine(),
      settings: { audioFormat: 'ogg', redirectionEmails: [{ email: 'a@example.org', type: 'attachment' }, { email: 'b@example.org', type: 'simple' }] },
    })).number;
    stored.length = 0;
    const { message, notifications } = await deposit(line);
    expect(notifications.map((j) => [j.recipient, j.type, j.format])).toEqual([
      ['a@example.org', 'attachment', 'ogg'],
      ['b@example.org', 'simple', 'ogg'],
    ]);
    expect((await store.outbox.listForMessage(message.id)).length).toBe(2);
    expect(stored).toEqual([[message.id, line]]);
    // An explicit list (even empty) wins over the settings.
    const quiet = await deposit(line, { notifications: [] });
    expect(await store.outbox.listForMessage(quiet.message.id)).toEqual([]);
  });

  test('a message evicted at once by maxMessages is not announced', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    await store.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8), creationDatetime: 2_000_000_000_000 });
    stored.length = 0;
    const { message, evicted } = await store.messages.create(
      { line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8), creationDatetime: 1_000 },
      { maxMessages: 1 },
    );
    expect(evicted).toEqual([message.id]);
    expect(stored).toEqual([]);
  });

  test('inside store.transaction: emitted after the commit, never after a rollback', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    stored.length = 0;
    const changed: string[] = [];
    const onChanged = (l: string): void => void changed.push(l);
    store.events.on('mailboxChanged', onChanged);
    try {
      const id = await store.transaction(async (tx) => {
        const { message } = await tx.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8) });
        expect(stored).toEqual([]);
        expect(changed).toEqual([]);
        return message.id;
      });
      expect(stored).toEqual([[id, line]]);
      expect(changed).toEqual([line]);
      stored.length = 0;
      changed.length = 0;
      await expect(
        store.transaction(async (tx) => {
          await tx.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8) });
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(stored).toEqual([]);
      expect(changed).toEqual([]);
    } finally {
      store.events.off('mailboxChanged', onChanged);
    }
  });
});
