import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../helpers/browser.js';
import { decodeWav } from '../../../src/shared/audio/wav.js';
import { decodeAudio } from '../../../src/shared/audio/index.js';
import { openStore, type Message, type Store } from '../../../src/store/index.js';
import { freshLine } from '../harness.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { describeSipp, runSipp } from '../../helpers/sipp.js';
import { until } from '../../helpers/wait.js';

/** The whole product: a real `repondeur serve` process (SIP + API + web manager) and its store opened beside it. */
interface Harness {
  proc: ServerProcess;
  store: Store;
  base: string;
  close(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const proc = await startServerProcess();
  const store = await openStore(`sqlite:${join(proc.dir, 'repondeur.db')}`);
  return {
    proc,
    store,
    base: `http://127.0.0.1:${proc.apiPort}`,
    close: async () => {
      await store.close();
      await proc.stop();
    },
  };
}

/** A caller leaves a message with SIPp: the README's demo scenario (greeting, beep, SIPp's 7 s g711a.pcap, BYE). */
async function leaveMessage(h: Harness, line: string): Promise<Message> {
  const r = await runSipp({ target: `127.0.0.1:${h.proc.sipPort}`, scenario: 'deposit-pcma.xml', service: line.slice(1), timeoutMs: 60000 });
  if (r.code !== 0) throw new Error(describeSipp(r));
  const log = await h.proc.waitForLog((l) => l.msg === 'deposit: message stored', 20000);
  return h.store.messages.get(String(log.messageId));
}

const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
const PIN = '4826';
let h: Harness;
let context: BrowserContext;
let page: Page;
let dir: string;
let line: string;

beforeAll(async () => {
  h = await startHarness();
  line = freshLine();
  await h.store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  dir = mkdtempSync(join(tmpdir(), 'repondeur-web-'));
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: CHROMIUM_ARGS,
  });
  page = context.pages()[0] ?? (await context.newPage());
  // The page must never reach beyond our server.
  await context.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
});

afterAll(async () => {
  await context?.close();
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const byTestId = (id: string) => page.getByTestId(id);

/** Waits until the element shows exactly `text`. */
async function hasText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).waitFor({ timeout: 10_000 });
  expect((await locator.textContent())?.trim()).toBe(text);
}


test('a subscriber manages the line from the web manager', async () => {
  const message = await leaveMessage(h, line);
  const seconds = message.durationMs / 1000;
  expect(seconds).toBeGreaterThan(6);
  // The line starts the browser part in fax routing (a fax-routed line is never answered as voicemail).
  await h.store.lines.setRouting(line, 'fax');

  // French by default; the English toggle is remembered across reloads.
  await page.goto(h.base + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await expect(page.locator('#login-title').textContent()).resolves.toBe('Connexion');
  await byTestId('lang-toggle').click();
  await expect(page.locator('#login-title').textContent()).resolves.toBe('Log in');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await expect(page.locator('#login-title').textContent()).resolves.toBe('Log in');
  await byTestId('lang-toggle').click();
  await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');

  // A wrong PIN is refused and recorded; the right one opens the manager.
  await page.getByLabel('Numéro de la ligne').fill(line.slice(1));
  await page.getByLabel('Code secret (PIN)').fill('0000');
  await byTestId('login-submit').click();
  await hasText(byTestId('error-login'), 'Numéro de ligne ou code secret incorrect.');
  expect(await h.store.authFailures.list({ line })).toHaveLength(1);
  await page.getByLabel('Code secret (PIN)').fill(PIN);
  await byTestId('login-submit').click();
  await byTestId('current-line').waitFor();
  // The line's settings load after the manager opens: wait for the routing to be shown, then read it.
  await page.locator('[data-testid="routing-status"][data-routing]').waitFor();
  await expect(byTestId('routing-status').getAttribute('data-routing')).resolves.toBe('fax');

  // Routing: the confirmation shows the operator's warning before anything changes.
  await byTestId('routing-toggle').click();
  await hasText(byTestId('routing-warning'), "L'activation du répondeur désactive toutes les fonctionnalités fax de votre ligne");
  expect((await h.store.lines.get(line)).routing).toBe('fax');
  await byTestId('routing-confirm').click();
  await page.waitForSelector('[data-testid="routing-status"][data-routing="voicemail"]');
  expect((await h.store.lines.get(line)).routing).toBe('voicemail');

  // Settings.
  await byTestId('settings-audioFormat').selectOption('mp3');
  await byTestId('settings-greetingType').selectOption('full');
  await byTestId('settings-doNotRecord').check();
  await page.getByLabel('Nom de l’expéditeur').fill('Cabinet Martin');
  await byTestId('settings-email-0').fill('secretariat@example.org');
  await byTestId('settings-email-1').fill('martin@example.org');
  await byTestId('settings-email-type-1').selectOption('simple');
  await byTestId('settings-save').click();
  await hasText(byTestId('ok-settings'), 'Configuration enregistrée.');
  expect(await h.store.lines.getSettings(line)).toMatchObject({
    audioFormat: 'mp3',
    greetingType: 'full',
    doNotRecord: true,
    fromName: 'Cabinet Martin',
    redirectionEmails: [
      { email: 'secretariat@example.org', type: 'attachment' },
      { email: 'martin@example.org', type: 'simple' },
    ],
  });
  await hasText(byTestId('unread-messages'), '1');

  // Greeting upload (an MP3 at 44.1 kHz stereo), then it can be played and is stored as 8 kHz WAV.
  const mp3 = join(dir, 'annonce.mp3');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=2', '-ac', '2', '-ar', '44100', '-c:a', 'libmp3lame', '-y', mp3]);
  await byTestId('greeting-file-unavail').setInputFiles(mp3);
  await byTestId('greeting-upload-unavail').click();
  await page.waitForSelector('[data-testid="greeting-unavail"][data-recorded="true"]');
  const greeting = await h.store.greetings.get(line, 'unavail');
  expect(decodeWav(greeting!.wav)).toMatchObject({ sampleRate: 8000, channels: 1 });
  await byTestId('greeting-audio-unavail').waitFor();

  // The message: listed, played to the end in the page.
  const row = page.locator(`[data-testid="message-row"][data-id="${message.id}"]`);
  await hasText(row.getByTestId('message-caller'), 'Alice Caller (+33611223344)');
  await hasText(row.getByTestId('message-duration'), `0:${String(message.duration).padStart(2, '0')}`);
  const ended = page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        // Runs in the page (the test's tsconfig has no DOM lib): only what is used is typed.
        type AudioLike = { duration: number; error: { code: number } | null; addEventListener(type: string, listener: () => void, options?: object): void };
        const page = globalThis as unknown as { document: { querySelector(selector: string): AudioLike } };
        const player = page.document.querySelector('[data-testid="player"]');
        player.addEventListener('ended', () => resolve(player.duration), { once: true });
        player.addEventListener('error', () => reject(new Error(`audio error ${player.error?.code}`)), { once: true });
      }),
  );
  await row.getByTestId('message-play').click();
  expect(Math.abs((await ended) - seconds)).toBeLessThan(0.1);

  // Download as MP3.
  await row.getByTestId('message-format').selectOption('mp3');
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('message-download').click()]);
  expect(download.suggestedFilename()).toBe(`message-${message.id}.mp3`);
  const saved = join(dir, 'download.mp3');
  await download.saveAs(saved);
  const decoded = await decodeAudio(readFileSync(saved));
  expect(Math.abs((decoded.samples.length / decoded.channels / decoded.sampleRate) * 1000 - message.durationMs)).toBeLessThan(80);

  // Move to another folder.
  await row.getByTestId('message-move').selectOption('work');
  await until('the message moved to work', async () => (await h.store.messages.get(message.id)).dir === 'work');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'web-manager.png'), fullPage: true });

  // Delete (after the page's confirmation dialog).
  await page.locator(`[data-testid="message-row"][data-id="${message.id}"]`).getByTestId('message-delete').click();
  await byTestId('confirm-ok').click();
  await byTestId('messages-empty').waitFor();
  await expect(h.store.messages.get(message.id)).rejects.toThrow('does not exist');

  // Logging out ends the session: the API refuses the cookie afterwards.
  await byTestId('logout').click();
  await byTestId('login-form').waitFor();
  const status = await page.evaluate(async (url) => (await fetch(url)).status, `/api/v1/lines/${encodeURIComponent(line)}`);
  expect(status).toBe(401);
});
