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

/** Every route of the app with a state-changing method, read from fastify's own route tree (printRoutes). */
function stateChangingRoutes(): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of h.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ')) {
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) out.push({ method, path: stack.join('') });
    }
  }
  return out;
}

/** A value for each route parameter; a route with a parameter not listed here fails the test (add it). */
function fillParams(path: string): string {
  const values: Record<string, string> = {
    line: enc(line), kind: 'unavail', id: '1', name: 'x', token: 'x', billingAccount: 'ba-1', serviceName: enc(line),
  };
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`route ${path}: no test value for :${name} — add one to fillParams()`);
    return values[name]!;
  });
}

test('every state-changing route refuses a cross-origin cookie request (each route enumerated from fastify)', async () => {
  if ((await sessionStillValid()) !== 200) {
    // An earlier test logged out from the own origin: log in again, as in beforeAll.
    const status = await page.evaluate(
      async ([l, pin]) => (await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ line: l, pin }) })).status,
      [line, PIN],
    );
    expect(status).toBe(200);
  }
  const routes = stateChangingRoutes();
  // The routes the issue names are among them, so the enumeration itself cannot silently come back empty.
  expect(routes).toEqual(expect.arrayContaining([
    { method: 'POST', path: '/api/v1/lines/:line/voicemail/greetings/:kind' },
    { method: 'DELETE', path: '/api/v1/lines/:line' },
    { method: 'POST', path: '/api/v1/auth/logout' },
  ]));
  const greetingBefore = await h.store.greetings.get(line, 'unavail');
  const cookieJar = await context.cookies(h.base);
  const cookie = cookieJar.map((c) => `${c.name}=${c.value}`).join('; ');
  expect(cookie).not.toBe('');
  const targets = routes.map((r) => ({ ...r, url: `${h.base}${fillParams(r.path)}` }));

  // 1. From the attacker's page in Chromium. POST goes out as a "simple" no-cors request (what a form can do);
  //    PUT/PATCH/DELETE need a CORS preflight, which the server never grants, so the browser must not send them.
  const seen: Array<{ method: string; url: string; status: number }> = [];
  const onResponse = (r: import('playwright-core').Response): void => {
    seen.push({ method: r.request().method(), url: r.url(), status: r.status() });
  };
  page.on('response', onResponse);
  attackPage = `<!doctype html><script>
    const targets = ${JSON.stringify(targets.map(({ method, url }) => ({ method, url })))};
    Promise.all(targets.map((t) => fetch(t.url, {
      method: t.method, credentials: 'include', mode: t.method === 'POST' ? 'no-cors' : 'cors',
      headers: { 'content-type': 'text/plain' }, body: 'x',
    }).then(() => 'sent', () => 'blocked'))).then((r) => { window.done = r; });
  </script>`;
  await page.goto(`${attackerBase}/all-routes.html`);
  await page.waitForFunction(() => (globalThis as unknown as { done?: string[] }).done !== undefined);
  page.off('response', onResponse);
  for (const t of targets) {
    const answers = seen.filter((s) => s.url === t.url && s.method === t.method).map((s) => s.status);
    if (t.method === 'POST') expect({ route: `${t.method} ${t.path}`, answers }).toEqual({ route: `${t.method} ${t.path}`, answers: [403] });
    else expect({ route: `${t.method} ${t.path}`, answers: answers.filter((s) => s !== 403) }).toEqual({ route: `${t.method} ${t.path}`, answers: [] });
  }

  // 2. The server's own check for every route and method, whatever a browser would do: the session cookie and a
  //    foreign Origin give 403 cross_origin before any handler runs.
  for (const t of targets) {
    const r = await fetch(t.url, { method: t.method, headers: { cookie, origin: attackerBase, 'content-type': 'text/plain' }, body: 'x' });
    const body = (await r.json()) as { error?: string };
    expect({ route: `${t.method} ${t.path}`, status: r.status, error: body.error }).toEqual({ route: `${t.method} ${t.path}`, status: 403, error: 'cross_origin' });
  }

  // Nothing changed: the greeting is the same and the session still works.
  expect(Buffer.compare((await h.store.greetings.get(line, 'unavail'))!.wav, greetingBefore!.wav)).toBe(0);
  expect(await sessionStillValid()).toBe(200);
});
