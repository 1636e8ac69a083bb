import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SESSION_TTL_MS } from '../../src/api/index.js';
import { OPERATOR_TOKEN, ENGINES, call, enc, freshLine, startHarness, type Harness } from './harness.js';

const V1 = '/api/v1';

describe.each(ENGINES)('subscriber login on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => {
    await h.close();
  });

  async function provision(pin: string): Promise<string> {
    const number = freshLine();
    await h.store.lines.create({ number, pin });
    return number;
  }

  test('login sets an HttpOnly SameSite=Strict cookie that works alone; logout ends it', async () => {
    const line = await provision('5555');
    const r = await call(h.base, 'POST', `${V1}/auth/login`, { body: { line: line.slice(1), pin: '5555' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ line, token: expect.any(String) });
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^repondeur_session=[\w-]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = setCookie.split(';')[0]!;
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}/voicemail/settings`, { cookie })).status).toBe(200);

    const out = await call(h.base, 'POST', `${V1}/auth/logout`, { cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { cookie })).status).toBe(401);
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { token: r.json.token })).status).toBe(401);
  });

  test('sessions expire', async () => {
    const line = await provision('5556');
    const { json } = await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '5556' } });
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { token: json.token })).status).toBe(200);
    h.advance(SESSION_TTL_MS + 1000);
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { token: json.token })).status).toBe(401);
  });

  test('wrong PINs are recorded (source web) and 5 lock the line, also for the right PIN, until the lock ends', async () => {
    const line = await provision('1234');
    for (let i = 0; i < 5; i++) {
      const r = await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '0000' } });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'unauthorized', code: 'wrong_credentials', message: 'wrong line number or PIN' });
    }
    const failures = await h.store.authFailures.list({ line });
    expect(failures).toHaveLength(5);
    expect(failures.every((f) => f.source === 'web' && f.remote === '127.0.0.1')).toBe(true);

    const locked = await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '1234' } });
    expect(locked.status).toBe(429);
    expect(locked.json.error).toBe('too_many_attempts');
    expect(locked.json.message).toContain('locked until');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await h.store.authFailures.list({ line })).toHaveLength(5);

    h.advance(15 * 60_000 + 1000);
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '1234' } })).status).toBe(200);
    expect(await h.store.authFailures.list({ line })).toHaveLength(0);
  });

  test('failures by phone count towards the web lockout', async () => {
    const line = await provision('1234');
    // The store shares the API's clock (advanced by earlier tests): failures are stamped in the same time frame.
    for (let i = 0; i < 4; i++) await h.store.authFailures.record({ line, source: 'dialin', remote: 'sip:203.0.113.9' });
    const web = await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '9999' } });
    expect(web.status).toBe(401);
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '1234' } })).status).toBe(429);
  });

  test('unknown lines and lines without PIN refuse login the same way; bad bodies are 400', async () => {
    const unknown = freshLine();
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line: unknown, pin: '1234' } })).json).toEqual({
      error: 'unauthorized',
      code: 'wrong_credentials',
      message: 'wrong line number or PIN',
    });
    const noPin = freshLine();
    await h.store.lines.create({ number: noPin });
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line: noPin, pin: '1234' } })).status).toBe(401);
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line: 'x', pin: '1234' } })).status).toBe(400);
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line: unknown, pin: 1234 } })).status).toBe(400);
    expect((await call(h.base, 'POST', `${V1}/auth/login`, { body: { line: unknown } })).status).toBe(400);
  });

  test('deleting a line or changing its PIN ends the other sessions', async () => {
    const line = await provision('1111');
    const first = (await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '1111' } })).json.token;
    const second = (await call(h.base, 'POST', `${V1}/auth/login`, { body: { line, pin: '1111' } })).json.token;
    const pw = await call(h.base, 'POST', `${V1}/lines/${enc(line)}/voicemail/changePassword`, { token: first, body: { password: '2222' } });
    expect(pw.status).toBe(204);
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { token: first })).status).toBe(200);
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { token: second })).status).toBe(401);
    await call(h.base, 'DELETE', `${V1}/lines/${enc(line)}`, { token: OPERATOR_TOKEN });
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}`, { token: first })).status).toBe(401);
  });
});
