/**
 * Greeting selection and assembly against a real SQLite store and the shipped prompt catalogue.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chooseGreeting, DepositGreeting, GREETING_GAP_MS, systemPromptIds } from '../../../src/ivr/deposit/index.js';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../../src/ivr/prompts/catalog.js';
import { concatPcm, multiTone, silence } from '../../../src/media/index.js';
import { encodeWav } from '../../../src/shared/audio/wav.js';
import { openStore, type GreetingKind, type Store } from '../../../src/store/index.js';

const LINE = '+33912345678';
const logger = pino({ level: 'silent' });
let dir: string;
let store: Store;
let prompts: PromptCatalog;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deposit-greeting-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  prompts = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
  await store.lines.create({ number: LINE, routing: 'voicemail', language: 'fr' });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const kinds = (...k: GreetingKind[]): Set<GreetingKind> => new Set(k);

describe('chooseGreeting', () => {
  const base = { greetingType: 'default' as const, temporaryGreetingActivated: false };

  test('an active temporary greeting wins over every greeting type', () => {
    for (const greetingType of ['default', 'full', 'short'] as const) {
      expect(chooseGreeting({ greetingType, temporaryGreetingActivated: true }, kinds('temp', 'unavail', 'name'), true)).toEqual({
        source: 'recorded',
        kind: 'temp',
      });
    }
  });

  test('temporary greeting activated but not recorded falls through to the greeting type', () => {
    expect(chooseGreeting({ greetingType: 'full', temporaryGreetingActivated: true }, kinds('unavail'), false)).toEqual({
      source: 'recorded',
      kind: 'unavail',
    });
  });

  test('a stored temp greeting is ignored while the setting is off', () => {
    expect(chooseGreeting(base, kinds('temp'), false)).toEqual({ source: 'system' });
  });

  test('full: busy recording on busy, else unavail, else system', () => {
    const full = { ...base, greetingType: 'full' as const };
    expect(chooseGreeting(full, kinds('busy', 'unavail'), true)).toEqual({ source: 'recorded', kind: 'busy' });
    expect(chooseGreeting(full, kinds('busy', 'unavail'), false)).toEqual({ source: 'recorded', kind: 'unavail' });
    expect(chooseGreeting(full, kinds('unavail'), true)).toEqual({ source: 'recorded', kind: 'unavail' });
    expect(chooseGreeting(full, kinds('busy'), false)).toEqual({ source: 'system' });
    expect(chooseGreeting(full, kinds(), true)).toEqual({ source: 'system' });
  });

  test('short: the name recording, else system', () => {
    const short = { ...base, greetingType: 'short' as const };
    expect(chooseGreeting(short, kinds('name'), false)).toEqual({ source: 'name' });
    expect(chooseGreeting(short, kinds('unavail'), false)).toEqual({ source: 'system' });
  });

  test('default ignores the recordings', () => {
    expect(chooseGreeting(base, kinds('unavail', 'busy', 'name'), true)).toEqual({ source: 'system' });
  });
});

describe('systemPromptIds', () => {
  const o = { language: 'fr' as const, spokenNumber: '0912345678', busy: false, doNotRecord: false };
  const digits = ['number_0', 'number_9', 'number_1', 'number_2', 'number_3', 'number_4', 'number_5', 'number_6', 'number_7', 'number_8'];

  test('system greeting says the national number digit by digit, then invites to speak after the beep', () => {
    expect(systemPromptIds({ source: 'system' }, o)).toEqual(['greeting_mailbox_of', ...digits, 'greeting_leave_message', 'greeting_then_hang_up']);
  });

  test('system greeting on busy says the subscriber is on the phone', () => {
    expect(systemPromptIds({ source: 'system' }, { ...o, busy: true })).toEqual([
      'greeting_mailbox_of',
      ...digits,
      'greeting_your_correspondent',
      'greeting_busy',
      'greeting_leave_message',
      'greeting_then_hang_up',
    ]);
  });

  test('name greeting: unavailable or busy text after the name', () => {
    expect(systemPromptIds({ source: 'name' }, o)).toEqual(['greeting_unavailable', 'greeting_leave_message', 'greeting_then_hang_up']);
    expect(systemPromptIds({ source: 'name' }, { ...o, busy: true })[0]).toBe('greeting_busy');
  });

  test('a recorded greeting plays alone, or is followed by "cannot take messages" when doNotRecord', () => {
    expect(systemPromptIds({ source: 'recorded', kind: 'unavail' }, o)).toEqual([]);
    expect(systemPromptIds({ source: 'recorded', kind: 'unavail' }, { ...o, doNotRecord: true })).toEqual(['cannot_take_message', 'goodbye']);
    expect(systemPromptIds({ source: 'system' }, { ...o, doNotRecord: true }).slice(-2)).toEqual(['cannot_take_message', 'goodbye']);
  });

  test('every id exists in the shipped catalogue, in both languages', () => {
    for (const language of ['fr', 'en'] as const) {
      for (const busy of [false, true]) {
        for (const doNotRecord of [false, true]) {
          for (const plan of [{ source: 'system' }, { source: 'name' }] as const) {
            for (const id of systemPromptIds(plan, { ...o, language, busy, doNotRecord })) expect(prompts.has(language, id)).toBe(true);
          }
        }
      }
    }
  });
});

describe('DepositGreeting against the store', () => {
  const greeting = (busy = false) =>
    new DepositGreeting({ store, prompts, line: lineNow, language: 'fr', countryCode: '33', busy, logger });
  let lineNow: Awaited<ReturnType<Store['lines']['get']>>;
  const unavail = multiTone([440], 400);
  const name = multiTone([660], 250);

  test('default: the system greeting audio is exactly the catalogue prompts', async () => {
    lineNow = await store.lines.get(LINE);
    const g = await greeting().compose(false);
    expect(g.plan).toEqual({ source: 'system' });
    expect(g.samples).toEqual(prompts.concat('fr', g.promptIds, GREETING_GAP_MS));
  });

  test('full: the decoded stored WAV, alone', async () => {
    await store.greetings.put(LINE, 'unavail', { wav: encodeWav(unavail), durationMs: 400 });
    lineNow = await store.lines.get(LINE);
    lineNow = { ...lineNow, settings: await store.lines.updateSettings(LINE, { greetingType: 'full' }) };
    const g = await greeting().compose(false);
    expect(g.plan).toEqual({ source: 'recorded', kind: 'unavail' });
    expect(g.samples).toEqual(unavail);
  });

  test('short: name recording, gap, then system text', async () => {
    await store.greetings.put(LINE, 'name', { wav: encodeWav(name), durationMs: 250 });
    lineNow = { ...lineNow, settings: await store.lines.updateSettings(LINE, { greetingType: 'short' }) };
    const g = await greeting(true).compose(false);
    expect(g.plan).toEqual({ source: 'name' });
    const expected = concatPcm([name, silence(GREETING_GAP_MS), prompts.concat('fr', ['greeting_busy', 'greeting_leave_message', 'greeting_then_hang_up'], GREETING_GAP_MS)]);
    expect(g.samples).toEqual(expected);
  });

  test('an undecodable stored greeting falls back to the system greeting', async () => {
    await store.greetings.put(LINE, 'unavail', { wav: Buffer.from('not a wav at all'), durationMs: 400 });
    lineNow = { ...lineNow, settings: await store.lines.updateSettings(LINE, { greetingType: 'full' }) };
    const g = await greeting().compose(false);
    expect(g.plan).toEqual({ source: 'system' });
    expect(g.promptIds[0]).toBe('greeting_mailbox_of');
  });

  test('temporary greeting wins when activated and recorded', async () => {
    const temp = multiTone([880], 300);
    await store.greetings.put(LINE, 'temp', { wav: encodeWav(temp), durationMs: 300 });
    lineNow = { ...lineNow, settings: await store.lines.updateSettings(LINE, { temporaryGreetingActivated: true, greetingType: 'default' }) };
    const g = await greeting().compose(false);
    expect(g.plan).toEqual({ source: 'recorded', kind: 'temp' });
    expect(g.samples).toEqual(temp);
  });
});
