/**
 * Operator-configured menu keys (`dialin.keys`), end to end: a real `repondeur serve` whose main menu quits on 9
 * instead of #. The menu is then announced from words naming 9, the old key chooses nothing, and 9 ends the call.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../../src/ivr/prompts/catalog.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { expectPromptsHeard } from '../../helpers/prompt-match.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { TestUa } from '../../helpers/test-ua.js';

const LINE = '+33912345678';
const DIAL_IN = '0033979947994';

let server: ServerProcess;
let store: Store;

beforeAll(async () => {
  server = await startServerProcess({ REPONDEUR_DIALIN_KEYS_MAIN_GOODBYE: '9', REPONDEUR_DIALIN_KEYS_MAIN_HELP: '*#' });
  store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
  await store.lines.updateSettings(LINE, { forcePassword: false });
  for (const m of await store.messages.list({ line: LINE })) await store.messages.delete(m.id);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

test('main menu quitting on 9: announced "pour quitter, appuyez sur neuf"; # is help now; 9 says goodbye and hangs up', async () => {
  const catalog = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
  const from = server.logs.length;
  const ua = await TestUa.create({ server: `127.0.0.1:${server.sipPort}` });
  try {
    const { status, call } = await ua.invite({ to: DIAL_IN, from: '0912345678', telephoneEvent: [101] });
    expect(status).toBe(200);
    // Caller ID login: "vous n'avez pas de message", then the assembled main menu.
    await call!.waitForAudioSilence({ silenceMs: 1500, timeoutMs: 60_000 });
    await call!.sendDtmf4733('#', { pt: 101 });
    // '#' is help now: the menu starts again; 9 cuts it and quits.
    await call!.waitUntil(() => server.logs.slice(from).filter((l) => l.msg === 'dial-in: saying').length >= 3, {
      timeoutMs: 15_000,
      what: 'the main menu said again after #',
    });
    await call!.sendDtmf4733('9', { pt: 101 });
    await call!.waitForBye(15_000);
    const said = server.logs
      .slice(from)
      .filter((l) => l.msg === 'dial-in: saying')
      .map((l) => l.prompts as string[]);
    const menu = [
      ...['menu_listen', 'press', 'number_1'],
      ...['menu_change_folder', 'press', 'number_2'],
      ...['menu_options', 'press', 'number_0'],
      ...['menu_repeat', 'press', 'star'],
      ...['menu_exit', 'press', 'number_9'],
    ];
    expect(said).toEqual([['no_messages'], menu, menu, ['goodbye']]);
    expectPromptsHeard(call!.received(), catalog, 'fr', ['no_messages', ...menu, 'goodbye'], call!.audio!.codec);
  } finally {
    ua.close();
  }
}, 120_000);
