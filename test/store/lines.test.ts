import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  DEFAULT_VOICEMAIL_SETTINGS,
  type Store,
} from '../../src/store/index.js';
import { ENGINES, TestDatabase, freshLine } from './harness.js';

describe.each(ENGINES)('lines on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open();
  });
  afterAll(async () => tdb.cleanup());

  test('create, get, list and delete a line; number normalised to E.164', async () => {
    const number = freshLine();
    const spaced = `00${number.slice(1, 3)} ${number.slice(3, 6)} ${number.slice(6)}`;
    const created = await store.lines.create({ number: spaced, routing: 'fax', language: 'en' });
    expect(created).toMatchObject({ number, routing: 'fax', language: 'en', hasPin: false });
    expect(created.settings).toEqual(DEFAULT_VOICEMAIL_SETTINGS);
    expect(await store.lines.get(number)).toEqual(created);
    expect((await store.lines.list()).map((l) => l.number)).toContain(number);
    await expect(store.lines.create({ number })).rejects.toBeInstanceOf(ConflictError);
    await store.lines.delete(number);
    await expect(store.lines.get(number)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.lines.delete(number)).rejects.toThrow(`line ${number} does not exist`);
    expect(await store.lines.find(number)).toBeUndefined();
  });

  test('defaults: voicemail routing, French', async () => {
    const line = await store.lines.create({ number: freshLine() });
    expect(line.routing).toBe('voicemail');
    expect(line.language).toBe('fr');
  });

  test('rejects a number that is not E.164 and an unknown routing, naming the field', async () => {
    await expect(store.lines.create({ number: '12ab' })).rejects.toThrow(/number.*not an E\.164 number/);
    await expect(store.lines.create({ number: freshLine(), routing: 'sms' as 'fax' })).rejects.toThrow(/routing must be one of/);
    await expect(store.lines.get('nope')).rejects.toBeInstanceOf(ValidationError);
  });

  test('setRouting and setLanguage change the line; unknown line is NotFoundError', async () => {
    const number = freshLine();
    await store.lines.create({ number });
    expect((await store.lines.setRouting(number, 'fax')).routing).toBe('fax');
    expect((await store.lines.get(number)).routing).toBe('fax');
    expect((await store.lines.setLanguage(number, 'en')).language).toBe('en');
    await expect(store.lines.setRouting(freshLine(), 'fax')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.lines.setLanguage(number, 'de' as 'fr')).rejects.toThrow(/language must be one of fr, en/);
  });

  test('PIN: stored as a salted scrypt hash, verified right and wrong', async () => {
    const number = freshLine();
    await store.lines.create({ number, pin: '1234' });
    expect(await store.lines.verifyPin(number, '1234')).toBe(true);
    expect(await store.lines.verifyPin(number, '1235')).toBe(false);
    expect(await store.lines.verifyPin(number, '12')).toBe(false);
    const row = await store.db.selectFrom('lines').select('pin_hash').where('number', '=', number).executeTakeFirstOrThrow();
    expect(row.pin_hash).toMatch(/^scrypt\$N=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(row.pin_hash).not.toContain('1234');

    const updated = await store.lines.setPin(number, '9876543210');
    expect(updated.hasPin).toBe(true);
    expect(await store.lines.verifyPin(number, '1234')).toBe(false);
    expect(await store.lines.verifyPin(number, '9876543210')).toBe(true);
    await expect(store.lines.setPin(number, '123')).rejects.toThrow(/pin must be 4 to 10 digits/);
    await expect(store.lines.setPin(number, '12345678901')).rejects.toBeInstanceOf(ValidationError);
    expect((await store.lines.setPin(number, null)).hasPin).toBe(false);
    expect(await store.lines.verifyPin(number, '9876543210')).toBe(false);
    await expect(store.lines.verifyPin(freshLine(), '1234')).rejects.toBeInstanceOf(NotFoundError);
  });

  test('two lines with the same PIN get different hashes (salt)', async () => {
    const a = freshLine();
    const b = freshLine();
    await store.lines.create({ number: a, pin: '0000' });
    await store.lines.create({ number: b, pin: '0000' });
    const rows = await store.db.selectFrom('lines').select('pin_hash').where('number', 'in', [a, b]).execute();
    expect(rows[0]!.pin_hash).not.toBe(rows[1]!.pin_hash);
  });

  test('updateSettings validates and merges', async () => {
    const number = freshLine();
    await store.lines.create({ number, settings: { audioFormat: 'mp3' } });
    const merged = await store.lines.updateSettings(number, {
      keepMessage: false,
      redirectionEmails: [{ email: 'a@example.org', type: 'attachment' }],
    });
    expect(merged).toMatchObject({ audioFormat: 'mp3', keepMessage: false, greetingType: 'default' });
    expect(merged.redirectionEmails).toEqual([{ email: 'a@example.org', type: 'attachment' }]);
    expect(await store.lines.getSettings(number)).toEqual(merged);
    expect((await store.lines.updateSettings(number, { fromName: 'Répondeur' })).audioFormat).toBe('mp3');
  });

  test('settings: a 6th e-mail, a bad format, a bad address and an unknown field are rejected by name', async () => {
    const number = freshLine();
    await store.lines.create({ number });
    const six = Array.from({ length: 6 }, (_, i) => ({ email: `u${i}@example.org`, type: 'simple' }));
    await expect(store.lines.updateSettings(number, { redirectionEmails: six })).rejects.toThrow(
      /redirectionEmails: at most 5 addresses/,
    );
    await expect(store.lines.updateSettings(number, { audioFormat: 'wma' })).rejects.toThrow(/audioFormat must be one of/);
    await expect(
      store.lines.updateSettings(number, { redirectionEmails: [{ email: 'not-an-email', type: 'simple' }] }),
    ).rejects.toThrow(/settings\.redirectionEmails\.0\.email.*valid e-mail/);
    await expect(store.lines.updateSettings(number, { fromEmail: 'x@' })).rejects.toThrow(/fromEmail must be a valid e-mail/);
    await expect(store.lines.updateSettings(number, { colour: 'blue' })).rejects.toThrow(/unknown setting\(s\): colour/);
    await expect(store.lines.create({ number: freshLine(), settings: { keepMessage: 'yes' } })).rejects.toThrow(
      /keepMessage must be a boolean/,
    );
    expect(await store.lines.getSettings(number)).toEqual(DEFAULT_VOICEMAIL_SETTINGS);
    await expect(store.lines.updateSettings(freshLine(), { keepMessage: true })).rejects.toBeInstanceOf(NotFoundError);
  });
});
