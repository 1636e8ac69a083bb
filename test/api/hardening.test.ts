/**
 * Web hardening (issue 11): malformed bodies are 4xx with a JSON message, every response is nosniff, cookies
 * are Secure behind a trusted TLS proxy only, cross-origin cookie requests are refused, the upload field name and
 * the WAV length are checked, and parallel wrong-PIN logins check at most lockout.maxFailures PINs.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApiServer } from '../../src/api/index.js';
import { encodeWav } from '../../src/shared/audio/wav.js';
import { ENGINES, TestDatabase, call, enc, freshLine, testConfig, toneWav, type Engine } from './harness.js';
import type { Store } from '../../src/store/index.js';

const V1 = '/api/v1';

async function open(engine: Engine, trustedProxies: string[] = []) {
  const db = new TestDatabase(engine);
  const store = await db.open();
  const config = testConfig(db.url);
  config.api.trustedProxies = trustedProxies;
  const app = await createApiServer({ store, config, logger: pino({ level: 'silent' }) });
  await app.ready();
  return { db, store, app };
}

function multipart(boundary: string, field: string, filename: string, bytes: Buffer, close = true): Buffer {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: audio/wav\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes, Buffer.from(close ? `\r\n--${boundary}--\r\n` : '')]);
}

interface RawResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  json(): any;
}

/** One HTTP request over a real socket with any headers (fetch forbids Host and friends), optionally from `localAddress`. */
function raw(
  port: number,
  options: { method: string; url: string; headers?: Record<string, string>; payload?: Buffer | string | object; localAddress?: string },
): Promise<RawResponse> {
  const payload =
    options.payload === undefined || Buffer.isBuffer(options.payload) || typeof options.payload === 'string'
      ? options.payload
      : JSON.stringify(options.payload);
  const headers: Record<string, string> = { ...options.headers };
  if (typeof options.payload === 'object' && !Buffer.isBuffer(options.payload)) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method, path: options.url, headers, localAddress: options.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ statusCode: res.statusCode!, headers: res.headers, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('malformed requests, headers and cookies', () => {
  let db: TestDatabase;
  let store: Store;
  let app: FastifyInstance;
  let line: string;
  let cookie: string;
  let port: number;
  const inject = (options: Parameters<typeof raw>[1]) => raw(port, options);
  beforeAll(async () => {
    ({ db, store, app } = await open('sqlite', ['127.0.0.1']));
    await app.listen({ port: 0, host: '0.0.0.0' });
    port = (app.server.address() as AddressInfo).port;
    line = freshLine();
    await store.lines.create({ number: line, pin: '4321' });
    const r = await inject({ method: 'POST', url: `${V1}/auth/login`, payload: { line, pin: '4321' } });
    cookie = String(r.headers['set-cookie']).split(';')[0]!;
  });
  afterAll(async () => {
    await app.close();
    await db.cleanup();
  });
  const upload = (payload: Buffer, contentType: string, headers: Record<string, string> = {}) =>
    inject({
      method: 'POST',
      url: `${V1}/lines/${enc(line)}/voicemail/greetings/unavail`,
      headers: { cookie, 'content-type': contentType, ...headers },
      payload,
    });

  test('a truncated multipart body is 400 JSON, not 500', async () => {
    const body = multipart('XyZ', 'file', 'g.wav', toneWav(1), false).subarray(0, 300);
    const r = await upload(body, 'multipart/form-data; boundary=XyZ');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'invalid_request', message: expect.any(String) });
  });

  test('a multipart body without boundary, or of garbage, is 400 JSON', async () => {
    const noBoundary = await upload(multipart('XyZ', 'file', 'g.wav', toneWav(1)), 'multipart/form-data');
    expect(noBoundary.statusCode).toBe(400);
    expect(noBoundary.json().message).toEqual(expect.any(String));
    const garbage = await upload(Buffer.from('\u0000\u0001garbage without any part'), 'multipart/form-data; boundary=XyZ');
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error).toBe('invalid_request');
  });

  test('garbage JSON is 400 JSON', async () => {
    const r = await inject({ method: 'POST', url: `${V1}/auth/login`, headers: { 'content-type': 'application/json' }, payload: '{"line": ' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
  });

  test('only the documented field name "file" is accepted', async () => {
    const r = await upload(multipart('XyZ', 'greeting', 'g.wav', toneWav(1)), 'multipart/form-data; boundary=XyZ');
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toContain('"file"');
    expect(await store.greetings.get(line, 'unavail')).toBeUndefined();
  });

  test('a WAV whose header lies about its data size is refused 400; an honest one is stored', async () => {
    const honest = encodeWav(new Int16Array(8000), 8000);
    const lying = Buffer.from(honest.subarray(0, 44 + 200));
    const r = await upload(multipart('XyZ', 'file', 'g.wav', lying), 'multipart/form-data; boundary=XyZ');
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toMatch(/data size/);
    expect(await store.greetings.get(line, 'unavail')).toBeUndefined();
    const ok = await upload(multipart('XyZ', 'file', 'g.wav', honest), 'multipart/form-data; boundary=XyZ');
    expect(ok.statusCode).toBe(201);
  });

  test('every response carries X-Content-Type-Options: nosniff (JSON, errors, 404, audio, web page)', async () => {
    const urls = [`${V1}/openapi.json`, `${V1}/lines`, '/no/such/thing', '/', `${V1}/lines/${enc(line)}/voicemail/greetings/unavail/download`];
    for (const url of urls) {
      const r = await inject({ method: 'GET', url, headers: { cookie } });
      expect([url, r.headers['x-content-type-options']]).toEqual([url, 'nosniff']);
    }
  });

  test('cookies are Secure when a trusted proxy says https, not otherwise', async () => {
    const login = (headers: Record<string, string>, localAddress = '127.0.0.1') =>
      inject({ method: 'POST', url: `${V1}/auth/login`, headers, localAddress, payload: { line, pin: '4321' } });
    const behindTls = await login({ 'x-forwarded-proto': 'https' });
    expect(String(behindTls.headers['set-cookie'])).toMatch(/; Secure/);
    const plain = await login({});
    expect(String(plain.headers['set-cookie'])).not.toMatch(/Secure/);
    const untrusted = await login({ 'x-forwarded-proto': 'https' }, '127.0.0.2');
    expect(String(untrusted.headers['set-cookie'])).not.toMatch(/Secure/);
    const logout = await inject({ method: 'POST', url: `${V1}/auth/logout`, headers: { 'x-forwarded-proto': 'https' } });
    expect(String(logout.headers['set-cookie'])).toMatch(/Max-Age=0; Secure/);
  });

  test('a cookie request from another origin is refused 403 cross_origin; same origin and bearer pass', async () => {
    const foreign = await inject({
      method: 'POST',
      url: `${V1}/auth/logout`,
      headers: { cookie, origin: 'http://127.0.0.1:9' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ error: 'cross_origin', message: expect.stringContaining('http://127.0.0.1:9') });
    const byReferer = await inject({
      method: 'DELETE',
      url: `${V1}/lines/${enc(line)}/voicemail/greetings/unavail`,
      headers: { cookie, referer: 'http://evil.example/page' },
    });
    expect(byReferer.statusCode).toBe(403);
    expect(await store.greetings.get(line, 'unavail')).toBeDefined();
    const same = await inject({ method: 'GET', url: `${V1}/auth/session`, headers: { cookie, origin: 'http://elsewhere' } });
    expect(same.statusCode).toBe(200);
    const own = await inject({
      method: 'POST',
      url: `${V1}/auth/logout`,
      headers: { cookie, origin: `http://localhost:${port}`, host: `localhost:${port}` },
    });
    expect(own.statusCode).toBe(204);
  });
});

describe.each(ENGINES)('parallel wrong-PIN logins on %s', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ db, store, app } = await open(engine));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    await db.cleanup();
  });

  test.each([
    ['a provisioned line', true],
    ['an unknown line', false],
  ])('400 at once on %s check at most lockout.maxFailures PINs; the rest are 429 locked', async (_name, provisioned) => {
    const line = freshLine();
    if (provisioned) await store.lines.create({ number: line, pin: '2468' });
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        call(base, 'POST', `${V1}/auth/login`, { body: { line, pin: String(1000 + i) === '2468' ? '0000' : String(1000 + i) } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    const checked = statuses.filter((s) => s === 401).length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(checked).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 429).length).toBe(400 - checked);
    expect(await store.authFailures.list({ line })).toHaveLength(checked);
    // The right PIN is refused while the line is locked.
    if (provisioned) expect((await call(base, 'POST', `${V1}/auth/login`, { body: { line, pin: '2468' } })).status).toBe(429);
  });
});
