/**
 * CSRF in a real browser (headless Debian Chromium): a page on another origin of the same host (another port
 * of 127.0.0.1, so same-site: SameSite=Strict still sends the cookie) posts a greeting upload and a logout with
 * the subscriber's session cookie. Both are refused 403 cross_origin; the greeting and the session are unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../helpers/browser.js';
import { enc, freshLine, startHarness, toneWav, type Harness } from './harness.js';

const PIN = '7391';
let h: Harness;
let context: BrowserContext;
let page: Page;
let dir: string;
let line: string;
let attacker: Server;
let attackerBase: string;
let attackPage = '';

beforeAll(async () => {
  h = await startHarness('sqlite');
  line = freshLine();
  await h.store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  await h.store.greetings.put(line, 'unavail', { wav: toneWav(1), durationMs: 1000 });
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage));
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerBase = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'repondeur-csrf-'));
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  await context.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
  page = context.pages()[0] ?? (await context.newPage());
  // Log in from the server's own origin, as the web manager does: the session cookie is set in the browser.
  await page.goto(`${h.base}/api/v1/openapi.json`);
  const status = await page.evaluate(
    async ([l, pin]) => (await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ line: l, pin }) })).status,
    [line, PIN],
  );
  expect(status).toBe(200);
});

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => (attacker ? attacker.close(resolve) : resolve(undefined)));
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sessionStillValid(): Promise<number> {
  await page.goto(`${h.base}/api/v1/openapi.json`);
  return page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
}

test('a cross-origin fetch POST of a multipart greeting is refused and the greeting is unchanged', async () => {
  const before = await h.store.greetings.get(line, 'unavail');
  const uploadUrl = `${h.base}/api/v1/lines/${enc(line)}/voicemail/greetings/unavail`;
  attackPage = `<!doctype html><script>
    const wav = new Uint8Array(${JSON.stringify([...toneWav(2)])});
    const form = new FormData();
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'evil.wav');
    fetch(${JSON.stringify(uploadUrl)}, { method: 'POST', body: form, credentials: 'include', mode: 'no-cors' })
      .then(() => { window.done = 'sent'; }, (e) => { window.done = 'error ' + e; });
  </script>`;
  const responses: number[] = [];
  page.on('response', (r) => {
    if (r.url() === uploadUrl) responses.push(r.status());
  });
  await page.goto(`${attackerBase}/fetch.html`);
  await page.waitForFunction(() => (globalThis as unknown as { done?: string }).done !== undefined);
  expect(await page.evaluate(() => (globalThis as unknown as { done?: string }).done)).toBe('sent');
  expect(responses).toEqual([403]);
  const after = await h.store.greetings.get(line, 'unavail');
  expect(Buffer.compare(after!.wav, before!.wav)).toBe(0);
  expect(await sessionStillValid()).toBe(200);
});

test('an auto-submitted cross-origin multipart form to the upload and a form to logout are refused', async () => {
  const before = await h.store.greetings.get(line, 'unavail');
  const uploadUrl = `${h.base}/api/v1/lines/${enc(line)}/voicemail/greetings/unavail`;
  attackPage = `<!doctype html><form method="POST" enctype="multipart/form-data" action=${JSON.stringify(uploadUrl)}>
    <input name="file" value="x"></form><script>document.forms[0].submit()</script>`;
  await page.goto(`${attackerBase}/form.html`);
  await page.waitForURL(uploadUrl);
  expect(JSON.parse((await page.textContent('body'))!)).toMatchObject({ error: 'cross_origin' });
  expect(Buffer.compare((await h.store.greetings.get(line, 'unavail'))!.wav, before!.wav)).toBe(0);

  const logoutUrl = `${h.base}/api/v1/auth/logout`;
  attackPage = `<!doctype html><form method="POST" action=${JSON.stringify(logoutUrl)}></form><script>document.forms[0].submit()</script>`;
  await page.goto(`${attackerBase}/logout.html`);
  await page.waitForURL(logoutUrl);
  expect(JSON.parse((await page.textContent('body'))!)).toMatchObject({ error: 'cross_origin' });
  expect(await sessionStillValid()).toBe(200);
});

test('the same requests from the server\u2019s own origin pass (the check refuses only foreign origins)', async () => {
  await page.goto(`${h.base}/api/v1/openapi.json`);
  const status = await page.evaluate(async (url) => {
    const form = new FormData();
    const wav = new Uint8Array(await (await fetch(url + '/download')).arrayBuffer());
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'same.wav');
    return (await fetch(url, { method: 'POST', body: form })).status;
  }, `/api/v1/lines/${enc(line)}/voicemail/greetings/unavail`);
  expect(status).toBe(201);
  expect(await page.evaluate(async () => (await fetch('/api/v1/auth/logout', { method: 'POST' })).status)).toBe(204);
  expect(await sessionStillValid()).toBe(401);
});
