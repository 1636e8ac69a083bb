import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../helpers/browser.js';
import { encodeWav } from '../../../src/shared/audio/wav.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { freshLine } from '../harness.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

/**
 * The web manager as a subscriber on a phone (390×844) and a laptop (1280×800), in French and English: every
 * view fits the width, every action is reachable, errors are shown translated next to what failed, listening
 * marks a message heard, and axe-core finds no serious or critical violation.
 */
const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PIN = '4826';
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'laptop', width: 1280, height: 800 },
] as const;

let proc: ServerProcess;
let store: Store;
let context: BrowserContext;
let dir: string;
let base: string;

beforeAll(async () => {
  proc = await startServerProcess({ REPONDEUR_VOICEMAIL_TIME_ZONE: 'Europe/Paris' });
  store = await openStore(`sqlite:${join(proc.dir, 'repondeur.db')}`);
  base = `http://127.0.0.1:${proc.apiPort}`;
  dir = mkdtempSync(join(tmpdir(), 'repondeur-web-'));
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  await context.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
}, 60_000);

afterAll(async () => {
  await context?.close();
  await store?.close();
  await proc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One second of a 440 Hz tone per second of duration, 8 kHz mono. */
function tone(seconds: number): Buffer {
  const pcm = new Int16Array(8000 * seconds);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return encodeWav(pcm);
}

async function newLineWithMessages(): Promise<{ line: string; ids: string[] }> {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  await store.lines.updateSettings(line, { audioFormat: 'ogg' });
  const ids: string[] = [];
  const names = ['Alice Martin', null, 'Cabinet Dupont-Lefèvre et associés'];
  for (let i = 0; i < names.length; i++) {
    const { message } = await store.messages.create({
      line,
      caller: `+3361122334${i}`,
      callee: line,
      callerName: names[i],
      durationMs: 2000 + i * 1000,
      wav: tone(2 + i),
      creationDatetime: Date.UTC(2026, 10, 20 + i, 9, 30),
    });
    ids.push(message.id);
  }
  return { line, ids };
}

async function open(page: Page, lang: 'fr' | 'en'): Promise<void> {
  // Each test starts logged out (the previous one's session cookie is dropped).
  await context.clearCookies();
  await page.goto(base + '/');
  await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('repondeur.language', l), lang);
  await page.goto(base + '/');
  await page.waitForSelector('body[data-ready="true"]');
  expect(await page.locator('html').getAttribute('lang')).toBe(lang);
}

async function login(page: Page, line: string): Promise<void> {
  await page.getByTestId('login-line').fill(line.slice(1));
  await page.getByTestId('login-pin').fill(PIN);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('current-line').waitFor();
  await page.locator('[data-testid="message-row"]').first().waitFor();
}

/** No horizontal scrolling: the page is never wider than the viewport. */
async function fitsWidth(page: Page): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => {
    const el = (globalThis as unknown as { document: { scrollingElement: { scrollWidth: number; clientWidth: number } } }).document.scrollingElement;
    return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
  });
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

/** Every button, link, input and select of the view lies within the viewport's width. */
async function actionsReachable(page: Page, width: number): Promise<void> {
  const outside = await page.evaluate((w) => {
    type Box = { left: number; right: number; width: number };
    type Node = { getBoundingClientRect(): Box; dataset: Record<string, string>; tagName: string; id: string };
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Node[] } }).document;
    return [...doc.querySelectorAll('main button, main a, main input, main select, header button')]
      .filter((n) => {
        const r = n.getBoundingClientRect();
        return r.width > 0 && (r.left < 0 || r.right > w);
      })
      .map((n) => n.dataset.testid ?? n.id ?? n.tagName);
  }, width);
  expect(outside).toEqual([]);
}

async function axe(page: Page): Promise<void> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) stays in force.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    type Result = { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
    const axe = (globalThis as unknown as { axe: { run(): Promise<Result> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}

for (const viewport of VIEWPORTS) {
  for (const lang of ['fr', 'en'] as const) {
    test(`${viewport.name} ${viewport.width}px, ${lang}: every view fits, errors are translated, axe finds nothing serious`, async () => {
      const { line, ids } = await newLineWithMessages();
      const page = await context.newPage();
      try {
        await page.setViewportSize({ width: viewport.width, height: viewport.height });
        await open(page, lang);
        await fitsWidth(page);
        await axe(page);
        // Logged out: no logout button, no line.
        expect(await page.getByTestId('logout').isVisible()).toBe(false);
        expect(await page.getByTestId('current-line').isVisible()).toBe(false);

        // A wrong PIN: the translated error stands next to the login form.
        await page.getByTestId('login-line').fill(line.slice(1));
        await page.getByTestId('login-pin').fill('0000');
        await page.getByTestId('login-submit').click();
        const loginError = page.getByTestId('error-login');
        await loginError.filter({ hasText: /\w/ }).waitFor();
        expect(await loginError.textContent()).toBe(lang === 'fr' ? 'Numéro de ligne ou code secret incorrect.' : 'Wrong line number or secret code.');
        expect(await loginError.getAttribute('role')).toBe('alert');
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, `web-login-${viewport.name}-${lang}.png`), fullPage: true });

        await login(page, line);
        // The error is gone after the successful login.
        expect(await loginError.textContent()).toBe('');
        await fitsWidth(page);
        await actionsReachable(page, viewport.width);
        await axe(page);

        // Newest first, unread marked, the default download format is the line's audioFormat (ogg).
        const rows = page.getByTestId('message-row');
        expect(await rows.evaluateAll((r) => r.map((n) => (n as unknown as { dataset: { id: string } }).dataset.id))).toEqual([...ids].reverse());
        expect(await page.getByTestId('message-unread').count()).toBe(3);
        expect(await rows.first().getByTestId('message-format').inputValue()).toBe('ogg');
        expect(await rows.first().getByTestId('message-download').getAttribute('href')).toContain('format=ogg');
        // Dates in the line's time zone (Europe/Paris: 09:30 UTC is 10:30).
        expect(await rows.first().locator('time').textContent()).toContain('10:30');
        await page.screenshot({ path: join(ARTIFACTS, `web-manager-${viewport.name}-${lang}.png`), fullPage: true });

        // A refused save: the translated error is next to the settings form, and cleared by the next success.
        await page.getByTestId('settings-email-1').fill('not-an-address');
        await page.getByTestId('settings-save').click();
        const settingsError = page.getByTestId('error-settings');
        await settingsError.filter({ hasText: /\w/ }).waitFor();
        expect(await settingsError.textContent()).toBe(lang === 'fr' ? 'Valeur invalide : adresse e-mail 2.' : 'Invalid value: e-mail address 2.');
        expect(await settingsError.isVisible()).toBe(true);
        expect(await page.getByTestId('settings-email-1').getAttribute('aria-invalid')).toBe('true');
        await fitsWidth(page);
        await page.screenshot({ path: join(ARTIFACTS, `web-error-${viewport.name}-${lang}.png`), fullPage: true });
        await page.getByTestId('settings-email-1').fill('');
        await page.getByTestId('settings-save').click();
        await page.getByTestId('ok-settings').filter({ hasText: /\w/ }).waitFor();
        expect(await settingsError.textContent()).toBe('');
        expect(await page.getByTestId('settings-email-1').getAttribute('aria-invalid')).toBeNull();

        // Listening marks the message heard (inbox → old), as the dial-in menu does.
        const newest = page.locator(`[data-testid="message-row"][data-id="${ids[2]}"]`);
        await newest.getByTestId('message-play').click();
        await page.locator(`[data-testid="message-row"][data-id="${ids[2]}"][data-unread="false"]`).waitFor();
        const heard = await store.messages.get(ids[2]!);
        expect(heard.dir).toBe('old');
        expect(heard.heardAt).not.toBeNull();
        // The unread count is redrawn once the page has the new list: wait for it, then read it.
        await page.getByTestId('unread-messages').filter({ hasText: /^\s*2\s*$/ }).waitFor();
        expect((await page.getByTestId('unread-messages').textContent())?.trim()).toBe('2');
        expect(await page.getByTestId('now-playing').textContent()).toContain('0:04');

        // Deleting asks in a real dialog: Escape cancels, the danger button deletes.
        await newest.getByTestId('message-delete').click();
        await page.getByTestId('confirm-dialog').waitFor();
        await fitsWidth(page);
        await axe(page);
        await page.screenshot({ path: join(ARTIFACTS, `web-confirm-${viewport.name}-${lang}.png`) });
        await page.keyboard.press('Escape');
        await page.getByTestId('confirm-dialog').waitFor({ state: 'hidden' });
        expect((await store.messages.get(ids[2]!)).id).toBe(ids[2]);
        await newest.getByTestId('message-delete').click();
        await page.getByTestId('confirm-ok').click();
        await page.getByTestId('ok-messages').filter({ hasText: /\w/ }).waitFor();
        await expect(store.messages.get(ids[2]!)).rejects.toThrow('does not exist');
        expect(await page.getByTestId('message-row').count()).toBe(2);
      } finally {
        await page.close();
      }
    }, 60_000);
  }
}

test('the lock message shows the end of the lock in the line time zone and the page language', async () => {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  const page = await context.newPage();
  try {
    await open(page, 'fr');
    for (let i = 0; i < 6; i++) {
      await page.getByTestId('login-line').fill(line.slice(1));
      await page.getByTestId('login-pin').fill('0000');
      const answered = page.waitForResponse((r) => r.url().endsWith('/auth/login'));
      await page.getByTestId('login-submit').click();
      if ((await answered).status() === 429) break;
    }
    const text = await page.getByTestId('error-login').textContent();
    expect(text).toMatch(/^Trop de codes erronés : la connexion est bloquée jusqu’à .*\d{2}:\d{2}\.$/);
    expect(text).not.toMatch(/T\d{2}:\d{2}|Z/);
  } finally {
    await page.close();
  }
}, 60_000);
