import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runOperatorCommand } from '../../src/cli/operator.js';
import type { Config } from '../../src/shared/config.js';
import { decodeAudio } from '../../src/shared/audio/index.js';
import type { Store } from '../../src/store/index.js';
import { ENGINES, PG_URL, TestDatabase, depositMessage, freshLine, testConfig } from '../api/harness.js';

/** Runs a command, capturing what it writes. */
async function run(config: Config, ...argv: string[]) {
  const out: (string | Buffer)[] = [];
  let err = '';
  const code = await runOperatorCommand(argv, config, { out: (c) => out.push(c), err: (t) => (err += t) });
  const text = out.map((c) => c.toString()).join('');
  return { code, text, bytes: Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), err };
}

describe.each(ENGINES)('operator CLI on %s', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let config: Config;
  let dir: string;
  beforeAll(async () => {
    db = new TestDatabase(engine);
    store = await db.open();
    // The CLI opens the store from the URL alone: on PostgreSQL the schema travels as a search_path option.
    const url = engine === 'sqlite' ? db.url : `${PG_URL}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
    config = testConfig(url);
    dir = mkdtempSync(join(tmpdir(), 'repondeur-cli-'));
  });
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('line add / list / route / set-pin / remove change the database', async () => {
    const number = freshLine();
    const national = `0${number.slice(3)}`;
    const add = await run(config, 'line', 'add', national, '--pin', '2580', '--routing', 'fax', '--language', 'en');
    expect(add).toMatchObject({ code: 0, err: '' });
    expect(await store.lines.get(number)).toMatchObject({ routing: 'fax', language: 'en', hasPin: true });
    expect(await store.lines.verifyPin(number, '2580')).toBe(true);

    const table = await run(config, 'line', 'list');
    expect(table.text.split('\n')[0]).toMatch(/^NUMBER\s+ROUTING\s+LANGUAGE\s+PIN\s+CREATED$/);
    expect(table.text).toContain(number);
    const json = JSON.parse((await run(config, 'line', 'list', '--json')).text);
    expect(json).toContainEqual(expect.objectContaining({ number, routing: 'fax', hasPin: true }));

    expect((await run(config, 'line', 'route', number, 'voicemail')).code).toBe(0);
    expect((await store.lines.get(number)).routing).toBe('voicemail');
    expect((await run(config, 'line', 'set-pin', number, '7777')).code).toBe(0);
    expect(await store.lines.verifyPin(number, '7777')).toBe(true);

    const dup = await run(config, 'line', 'add', number);
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('already exists');

    expect((await run(config, 'line', 'remove', number)).code).toBe(0);
    expect(await store.lines.find(number)).toBeUndefined();
    const again = await run(config, 'line', 'remove', number);
    expect(again.code).toBe(1);
    expect(again.err).toContain('does not exist');
  });

  test('usage errors exit 2 with a clear message', async () => {
    expect((await run(config, 'line', 'frobnicate')).code).toBe(2);
    expect((await run(config, 'line', 'add', 'not-a-number')).err).toContain('not a telephone number');
    expect((await run(config, 'line', 'add', freshLine(), '--routing', 'modem')).code).toBe(2);
    expect((await run(config, 'line', 'list', '--bogus')).code).toBe(2);
    const badPin = await run(config, 'line', 'add', freshLine(), '--pin', '12');
    expect(badPin.code).toBe(1);
    expect(badPin.err).toContain('pin');
    expect((await run(config, 'messages', 'export', '--line', freshLine(), '--id', '../../x')).code).toBe(2);
  });

  test('messages list and export', async () => {
    const number = freshLine();
    await store.lines.create({ number, pin: '1234' });
    const m = await depositMessage(store, number, 2, '+33687654321');
    const list = await run(config, 'messages', 'list', '--line', number, '--dir', 'inbox');
    expect(list.text).toContain(m.id);
    expect(list.text).toContain('+33687654321');
    const json = JSON.parse((await run(config, 'messages', 'list', '--line', number, '--json')).text);
    expect(json).toEqual([expect.objectContaining({ id: m.id, duration: 2, dir: 'inbox' })]);
    expect(JSON.parse((await run(config, 'messages', 'list', '--line', number, '--dir', 'old', '--json')).text)).toEqual([]);

    const out = join(dir, `${engine}.mp3`);
    const exported = await run(config, 'messages', 'export', '--line', number, '--id', m.id, '--format', 'mp3', '--out', out);
    expect(exported.code).toBe(0);
    const decoded = await decodeAudio(readFileSync(out));
    expect(Math.abs((decoded.samples.length / decoded.sampleRate) * 1000 - 2000)).toBeLessThan(80);
    const wav = await run(config, 'messages', 'export', '--line', number, '--id', m.id);
    expect(wav.bytes.toString('latin1', 0, 4)).toBe('RIFF');
    const other = await run(config, 'messages', 'export', '--line', freshLine(), '--id', m.id);
    expect(other.code).toBe(1);
  });

  test('auth failures shows failed PINs and the lock', async () => {
    const number = freshLine();
    await store.lines.create({ number, pin: '1234' });
    for (let i = 0; i < 5; i++) await store.authFailures.record({ line: number, source: i % 2 ? 'web' : 'dialin', remote: '192.0.2.7' });
    const json = JSON.parse((await run(config, 'auth', 'failures', '--line', number, '--json')).text);
    expect(json.failures).toHaveLength(5);
    expect(json.locks).toEqual([{ line: number, lockedUntil: expect.any(String) }]);
    const table = await run(config, 'auth', 'failures', '--line', number);
    expect(table.text).toContain('LOCKED UNTIL');
    expect(table.text).toContain('192.0.2.7');
  });
});
