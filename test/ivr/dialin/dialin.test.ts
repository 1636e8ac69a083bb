/**
 * The dial-in service end to end: a real `repondeur serve` process, SIPp as the subscriber's phone (RFC 4733
 * DTMF from play_dtmf and from the shipped pcaps, SIP INFO DTMF), and the same SQLite file opened here to set
 * up mailboxes and check what the calls changed. What the caller was told is read from the server's debug log
 * ("dial-in: saying", one entry per phrase, in order).
 *
 * The calls are independent and run at the same time against one server: each test has a line of its own (PIN,
 * language, settings, messages, PIN failures) and reads only its own call's log lines (by Call-ID).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { sql } from 'kysely';
import { encodeWav } from '../../../src/shared/audio/wav.js';
import { multiTone } from '../../../src/media/tones.js';
import { sayMessageCount } from '../../../src/ivr/prompts/speech.js';
import { openStore, type Folder, type Store } from '../../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { callIdOf, describeSipp, runSipp, type SippResult } from '../../helpers/sipp.js';
import { TestUa } from '../../helpers/test-ua.js';
import { expectPromptsHeard } from '../../helpers/prompt-match.js';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../../src/ivr/prompts/catalog.js';
import { until } from '../../helpers/wait.js';

const DIAL_IN = '0033979947994';
const STRANGER = '0611223344';
const PCAPS = '/usr/share/sip-tester';

let server: ServerProcess;
let store: Store;

beforeAll(async () => {
  server = await startServerProcess();
  store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

/** A mailbox line: E.164 number, and the national form a caller types or calls from. */
interface TestLine {
  number: string;
  national: string;
}

let linesCreated = 0;
/** A line of the test's own: PIN 1234, French, forcePassword off, no messages, no PIN failures. */
async function freshLine(): Promise<TestLine> {
  const suffix = String(100 + linesCreated++);
  const line = { number: `+33912000${suffix}`, national: `0912000${suffix}` };
  await store.lines.create({ number: line.number, routing: 'voicemail', pin: '1234', language: 'fr', settings: { forcePassword: false } });
  return line;
}

/** SIPp calls the dial-in number as `caller` and types `line`'s number where the scenario asks for a mailbox. */
async function dial(scenario: string, caller: string, line: TestLine, files: Record<string, string> = {}): Promise<{ sipp: SippResult; said: string[][]; saying: Array<Record<string, unknown>> }> {
  const sipp = await runSipp({
    scenario,
    target: `127.0.0.1:${server.sipPort}`,
    service: DIAL_IN,
    extra: ['-key', 'caller', caller, '-key', 'mailbox', line.national],
    files,
    timeoutMs: 90_000,
  });
  const ofCall = (callId: string | undefined): Array<Record<string, unknown>> => server.logs.filter((l) => l.callId === callId);
  if (sipp.code !== 0) {
    const tail = ofCall(sipp.callIds[0]).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('dial-in')).map((l) => JSON.stringify(l));
    throw new Error(`${scenario}: ${describeSipp(sipp)}\nserver said:\n${tail.join('\n')}`);
  }
  const callId = callIdOf(sipp);
  // The flow's last log lines may trail the BYE: wait for the router to be done with the call.
  await until('the call handled', () => ofCall(callId).some((l) => l.msg === 'call handled'));
  const saying = ofCall(callId).filter((l) => l.msg === 'dial-in: saying');
  return { sipp, said: saying.map((l) => l.prompts as string[]), saying };
}

/** Whether `expected` phrases occur in `said` in this order (other phrases may come between). */
function inOrder(said: string[][], expected: string[][]): boolean {
  let i = 0;
  for (const phrase of said) if (i < expected.length && JSON.stringify(phrase) === JSON.stringify(expected[i])) i++;
  return i === expected.length;
}

async function addMessage(line: TestLine, dir: Folder, at: number, caller = '+33611223344'): Promise<string> {
  const wav = encodeWav(multiTone([440], 1000));
  const { message } = await store.messages.create({ line: line.number, caller, callee: line.number, durationMs: 1000, wav, dir, creationDatetime: at });
  return message.id;
}

// One describe, so that all its calls run side by side (jest runs test.concurrent tests together per describe).
// The lockout test's own calls follow one another: each one depends on the failures the previous ones left.
describe('dial-in calls, each on a line of its own', () => {
  // --- login
  test.concurrent('login: line number and PIN by RFC 4733 (PT 96): welcome, PIN, count announcement, goodbye and BYE from the server', async () => {
    const line = await freshLine();
    const now = Date.now();
    await addMessage(line, 'inbox', now - 3000);
    await addMessage(line, 'inbox', now - 2000);
    await addMessage(line, 'old', now - 1000);
    await store.authFailures.record({ line: line.number, source: 'dialin', remote: '192.0.2.1' });
    const { sipp, said } = await dial('dialin-login-rfc4733.xml', STRANGER, line);
    expect(sipp.code).toBe(0);
    expect(sipp.successful).toBe(1);
    expect(said).toContainEqual(['enter_pin']);
    expect(inOrder(said, [['dialin_welcome'], ['enter_mailbox'], ['enter_pin'], sayMessageCount(2, 1, 'fr'), ['main_menu'], ['goodbye']])).toBe(true);
    expect(sayMessageCount(2, 1, 'fr')).toEqual(['you_have', 'number_2', 'new_messages', 'and', 'old_message']);
    // Success clears the earlier failure.
    expect(await store.authFailures.count(line.number, 0)).toBe(0);
  }, 60_000);

  test.concurrent('login: caller ID of a line without forcePassword: no PIN asked; # by pcap (PT 101) ends the call', async () => {
    const line = await freshLine();
    await addMessage(line, 'inbox', Date.now() - 1000);
    const { sipp, said } = await dial('dialin-caller-id.xml', line.national, line, { 'dtmf_2833_pound.pcap': join(PCAPS, 'dtmf_2833_pound.pcap') });
    expect(sipp.code).toBe(0);
    expect(said).not.toContainEqual(['enter_pin']);
    expect(said).not.toContainEqual(['enter_mailbox']);
    expect(inOrder(said, [sayMessageCount(1, 0, 'fr'), ['main_menu'], ['goodbye']])).toBe(true);
  }, 60_000);

  test.concurrent('login: caller ID of a line with forcePassword: line number and PIN are asked', async () => {
    const line = await freshLine();
    await store.lines.updateSettings(line.number, { forcePassword: true });
    const { sipp, said } = await dial('dialin-login-rfc4733.xml', line.national, line);
    expect(sipp.code).toBe(0);
    expect(inOrder(said, [['enter_mailbox'], ['enter_pin'], ['no_messages'], ['main_menu'], ['goodbye']])).toBe(true);
  }, 60_000);

  test.concurrent('login: the mailbox language is used once known (English line)', async () => {
    const line = await freshLine();
    await store.lines.setLanguage(line.number, 'en');
    const { sipp, saying } = await dial('dialin-caller-id.xml', line.national, line, { 'dtmf_2833_pound.pcap': join(PCAPS, 'dtmf_2833_pound.pcap') });
    expect(sipp.code).toBe(0);
    const languages = saying.slice(-3).map((l) => l.language);
    expect(languages).toEqual(['en', 'en', 'en']);
  }, 60_000);

  // --- what the caller hears (TestUa, audio matched against the prompt files)
  test.concurrent('heard: login by RFC 4733 (PT 101): welcome, line number, PIN, then "vous avez deux nouveaux messages"; # gets goodbye and BYE', async () => {
    const line = await freshLine();
    const now = Date.now();
    await addMessage(line, 'inbox', now - 2000);
    await addMessage(line, 'inbox', now - 1000);
    const catalog = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
    const ua = await TestUa.create({ server: `127.0.0.1:${server.sipPort}` });
    try {
      const { status, call } = await ua.invite({ to: DIAL_IN, from: STRANGER, telephoneEvent: [101] });
      expect(status).toBe(200);
      await call!.waitForAudioSilence({ silenceMs: 700, timeoutMs: 15_000 });
      await call!.sendDtmf4733(`${line.national}#`, { pt: 101 });
      // The PIN prompt after the line number: a loaded server may start it after 700 ms of silence (afterMs).
      await call!.waitForAudioSilence({ silenceMs: 700, timeoutMs: 15_000, afterMs: performance.now() });
      await call!.sendDtmf4733('1234#', { pt: 101 });
      // The PIN check (scrypt) may take seconds on a busy machine, the server sending silence meanwhile: wait for
      // it to start saying the main menu (its log), then for the menu to end.
      const saidMenu = (): boolean => server.logs.some((l) => l.callId === call!.callId && l.msg === 'dial-in: saying' && JSON.stringify(l.prompts) === '["main_menu"]');
      await call!.waitUntil(saidMenu, { timeoutMs: 30_000, what: 'the main menu after the PIN' });
      await call!.waitForAudioSilence({ silenceMs: 1500, timeoutMs: 30_000 });
      await call!.sendDtmf4733('#', { pt: 101 });
      await call!.waitForBye(15_000);
      const heard = call!.received();
      const codec = call!.audio!.codec;
      expectPromptsHeard(heard, catalog, 'fr', ['dialin_welcome', 'enter_mailbox', 'enter_pin', 'you_have', 'number_2', 'new_messages', 'main_menu', 'goodbye'], codec);
    } finally {
      ua.close();
    }
  }, 90_000);

  // --- wrong PINs and the lockout
  test.concurrent('lockout: three wrong PINs: "code incorrect", "trop d\'essais", goodbye, BYE; each failure recorded with the source address', async () => {
    const line = await freshLine();
    const { sipp, said } = await dial('dialin-wrong-pin.xml', STRANGER, line);
    expect(sipp.code).toBe(0);
    expect(said.filter((p) => p[0] === 'enter_pin')).toHaveLength(3);
    expect(inOrder(said, [['pin_incorrect'], ['pin_incorrect'], ['pin_incorrect', 'too_many_attempts'], ['goodbye']])).toBe(true);
    const failures = await store.authFailures.list({ line: line.number });
    expect(failures).toHaveLength(3);
    expect(failures.every((f) => f.source === 'dialin' && f.remote === '127.0.0.1')).toBe(true);
  }, 90_000);

  test.concurrent('lockout: failures across calls lock the line: the right PIN is refused until the lockout ends', async () => {
    const line = await freshLine();
    const first = await dial('dialin-wrong-pin.xml', STRANGER, line);
    expect(first.sipp.code).toBe(0);
    const logsBefore = server.logs.length;
    // Fourth and fifth failures: the fifth locks the line (5 within 15 minutes).
    const second = await dial('dialin-wrong-pin-twice.xml', STRANGER, line);
    expect(second.sipp.code).toBe(0);
    expect(inOrder(second.said, [['pin_incorrect'], ['access_locked'], ['goodbye']])).toBe(true);
    expect(await store.authFailures.count(line.number, 0)).toBe(5);
    const warned = server.logs.slice(logsBefore).filter((l) => l.level === 40 && l.line === line.number);
    expect(warned.length).toBeGreaterThan(0);

    // The right PIN while locked: refused before the PIN is even asked.
    const third = await dial('dialin-locked-out.xml', STRANGER, line);
    expect(third.sipp.code).toBe(0);
    expect(third.said).toContainEqual(['access_locked']);
    expect(third.said).not.toContainEqual(['enter_pin']);
    expect(third.said.some((p) => p[0] === 'you_have' || p[0] === 'no_messages')).toBe(false);

    // Fifteen minutes later (the line's failures moved back in time), the right PIN opens the mailbox again.
    await sql`UPDATE auth_failures SET at = at - ${15 * 60_000 + 1000} WHERE line = ${line.number}`.execute(store.db);
    const fourth = await dial('dialin-login-rfc4733.xml', STRANGER, line);
    expect(fourth.sipp.code).toBe(0);
    expect(inOrder(fourth.said, [['enter_pin'], ['no_messages'], ['main_menu'], ['goodbye']])).toBe(true);
    expect(await store.authFailures.count(line.number, 0)).toBe(0);
  }, 180_000);

  // --- the mailbox menus
  test.concurrent('menus: SIP INFO: listen marks heard, 6 next, 7 deletes at once, 9 2 saves to "work"', async () => {
    const line = await freshLine();
    const now = Date.now();
    const a = await addMessage(line, 'inbox', now - 30_000);
    const b = await addMessage(line, 'inbox', now - 20_000);
    const c = await addMessage(line, 'inbox', now - 10_000);
    const { sipp, said } = await dial('dialin-messages-info.xml', line.national, line);
    expect(sipp.code).toBe(0);
    expect(inOrder(said, [sayMessageCount(3, 0, 'fr'), ['first_message'], ['message_number', 'number_2'], ['message_deleted'], ['last_message'], ['message_saved_to_folder', 'folder_work'], ['no_more_messages'], ['goodbye']])).toBe(true);
    const msgA = await store.messages.get(a);
    expect(msgA.dir).toBe('old');
    expect(msgA.heardAt).not.toBeNull();
    await expect(store.messages.get(b)).rejects.toThrow(/does not exist/);
    const msgC = await store.messages.get(c);
    expect(msgC.dir).toBe('work');
    expect(msgC.heardAt).not.toBeNull();
  }, 90_000);

  test.concurrent('menus: options: the PIN changed (typed twice) and the unavailable greeting recorded', async () => {
    const line = await freshLine();
    const { sipp, said } = await dial('dialin-options.xml', line.national, line, { 'g711a.pcap': join(PCAPS, 'g711a.pcap') });
    expect(sipp.code).toBe(0);
    expect(inOrder(said, [['options_menu'], ['enter_new_pin'], ['confirm_new_pin'], ['pin_changed'], ['record_greeting'], ['greeting_saved'], ['main_menu'], ['goodbye']])).toBe(true);
    expect(await store.lines.verifyPin(line.number, '5678')).toBe(true);
    expect(await store.lines.verifyPin(line.number, '1234')).toBe(false);
    const greeting = await store.greetings.get(line.number, 'unavail');
    expect(greeting).toBeDefined();
    expect(greeting!.durationMs).toBeGreaterThan(5000);
    expect(greeting!.durationMs).toBeLessThan(9000);
  }, 90_000);
});
