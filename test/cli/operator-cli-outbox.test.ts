/** `repondeur outbox list|retry` and `repondeur retention log` against a real store. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runOperatorCommand } from '../../src/cli/operator.js';
import type { Config } from '../../src/shared/config.js';
import { notificationsFor } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { ENGINES, PG_URL, TestDatabase, freshLine, testConfig, toneWav } from '../api/harness.js';

async function run(config: Config, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runOperatorCommand(argv, config, { out: (c) => (out += c.toString()), err: (t) => (err += t) });
  return { code, out, err };
}

describe.each(ENGINES)('operator CLI for the outbox and the retention log on %s', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let config: Config;
  beforeAll(async () => {
    db = new TestDatabase(engine);
    store = await db.open();
    const url = engine === 'sqlite' ? db.url : `${PG_URL}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
    config = testConfig(url);
  });
  afterAll(async () => db.cleanup());

  test('outbox list shows failed jobs with their error; outbox retry puts them back; retention log lists deletions', async () => {
    const line = freshLine();
    await store.lines.create({ number: line, settings: { redirectionEmails: [{ email: 'z@example.org', type: 'simple' }] } });
    const settings = await store.lines.getSettings(line);
    const { message } = await store.messages.create(
      { line, caller: '+33612345678', callee: line, durationMs: 2000, wav: toneWav(2) },
      { notifications: notificationsFor(settings), maxMessages: 100 },
    );
    const [job] = await store.outbox.listForMessage(message.id);
    await store.outbox.markFailed(job!.id, '550 no such user');

    const list = await run(config, 'outbox', 'list', '--status', 'failed', '--line', line, '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ id: job!.id, status: 'failed', lastError: '550 no such user' })]);
    const table = await run(config, 'outbox', 'list', '--line', line);
    expect(table.out).toMatch(/LAST ERROR/);
    expect(table.out).toContain('550 no such user');

    expect((await run(config, 'outbox', 'retry')).code).toBe(2);
    const retry = await run(config, 'outbox', 'retry', job!.id);
    expect(retry).toMatchObject({ code: 0, out: '1 notification(s) due again now\n' });
    expect((await store.outbox.get(job!.id)).status).toBe('pending');
    await store.outbox.claimDue(Date.now(), 1, 600_000);
    const again = await run(config, 'outbox', 'retry', job!.id);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/being sent right now/);
    expect((await run(config, 'outbox', 'list', '--status', 'bogus')).code).toBe(2);

    await store.retentionLog.record([{ messageId: message.id, line, reason: 'keepMessage' }]);
    const log = await run(config, 'retention', 'log', '--line', line, '--json');
    expect(log.code).toBe(0);
    expect(JSON.parse(log.out)).toEqual([expect.objectContaining({ messageId: message.id, reason: 'keepMessage' })]);
  });

  test('mwi add, list and remove the unsolicited MWI contacts of a line', async () => {
    const line = freshLine();
    await store.lines.create({ number: line });
    const uri = 'sip:phone@192.0.2.10:5062';
    const added = await run(config, 'mwi', 'add', line, uri);
    expect(added.code).toBe(0);
    expect(added.out).toContain(uri);
    expect((await run(config, 'mwi', 'add', line, uri)).code).toBe(1);
    expect((await run(config, 'mwi', 'add', line, 'mailto:a@b')).code).not.toBe(0);
    expect((await run(config, 'mwi', 'add', line)).code).toBe(2);
    const list = await run(config, 'mwi', 'list', '--line', line, '--json');
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ line, uri })]);
    expect((await run(config, 'mwi', 'list', '--line', line)).out).toContain('CONTACT');
    expect((await run(config, 'mwi', 'remove', line, uri)).code).toBe(0);
    expect((await run(config, 'mwi', 'remove', line, uri)).code).toBe(1);
    expect(await store.mwiContacts.list(line)).toEqual([]);
    // A removed line takes its contacts with it.
    await store.mwiContacts.add(line, uri);
    await store.lines.delete(line);
    expect(await store.mwiContacts.list()).not.toContainEqual(expect.objectContaining({ line }));
  });
});
