/**
 * The dial-in lockout holds for callers parked at the PIN prompt (real store, SQLite and PostgreSQL): callers who
 * typed the line number before the lock engaged and then type their PIN together check at most maxFailures
 * PINs; the others, and a caller with the right PIN, hear "accès bloqué" played whole and are refused.
 * The keypad is scripted (a voice that answers each prompt when the test releases it).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pino from 'pino';
import { DialInAuthenticator, type AuthOutcome } from '../../../src/ivr/dialin/authenticator.js';
import type { DialInVoice } from '../../../src/ivr/dialin/dialin-voice.js';
import type { Store } from '../../../src/store/index.js';
import { ENGINES, TestDatabase, freshLine } from '../../store/harness.js';

const POLICY = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

/** A caller: types `line` at once, then waits at the PIN prompt until `release` is called. */
function parkedCaller(line: string) {
  let release!: (pin: string) => void;
  const pin = new Promise<string>((resolve) => (release = resolve));
  let atPinPrompt!: () => void;
  const parked = new Promise<void>((resolve) => (atPinPrompt = resolve));
  const said: Array<{ what: readonly string[]; interruptible: boolean }> = [];
  const voice = {
    say: async (...u: Array<readonly string[]>) => {
      for (const what of u) said.push({ what, interruptible: true });
      return true;
    },
    sayUninterrupted: async (what: readonly string[]) => {
      said.push({ what, interruptible: false });
    },
    enter: async (prompt: readonly string[]) => {
      if (prompt[0] === 'enter_mailbox') return line;
      atPinPrompt();
      return pin;
    },
    flushDigits: () => undefined,
  } as unknown as DialInVoice;
  return { voice, said, parked, release };
}

describe.each(ENGINES)('callers parked at the PIN prompt on %s', (engine) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = new TestDatabase(engine);
    store = await db.open();
  });
  afterAll(async () => {
    await db.cleanup();
  });

  function authenticate(voice: DialInVoice): Promise<AuthOutcome> {
    return new DialInAuthenticator({ voice, store, logger: pino({ level: 'silent' }), policy: POLICY, countryCode: '33', now: Date.now, remote: '192.0.2.7' }).authenticate();
  }

  test('12 parked callers typing wrong PINs at once check at most 5; then the right PIN is refused while locked', async () => {
    const line = freshLine();
    await store.lines.create({ number: line, pin: '8642', routing: 'voicemail' });
    const callers = Array.from({ length: 12 }, () => parkedCaller(line));
    const rightOne = parkedCaller(line);
    const outcomes = [...callers, rightOne].map((c) => authenticate(c.voice));
    // Everyone is at the PIN prompt before any PIN is typed: the line was not locked when they typed the number.
    await Promise.all([...callers, rightOne].map((c) => c.parked));
    callers.forEach((c, i) => c.release(String(1000 + i)));
    // Each caller may try three times in the call; the wrong ones keep failing until the lock stops them.
    const results = await Promise.all(outcomes.slice(0, 12));
    expect(results.every((r) => r.kind === 'refused')).toBe(true);
    expect(await store.authFailures.list({ line })).toHaveLength(5);
    rightOne.release('8642');
    expect(await outcomes[12]).toEqual({ kind: 'refused', reason: 'locked' });
    // "accès bloqué" is played without barge-in; the right PIN did not clear the lock.
    expect(rightOne.said).toContainEqual({ what: ['access_locked'], interruptible: false });
    expect(rightOne.said.some((s) => s.what.includes('access_locked') && s.interruptible)).toBe(false);
    expect(await store.authFailures.lockedUntil(line, Date.now(), POLICY)).not.toBeNull();
  });
});
