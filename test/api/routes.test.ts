import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OPERATOR_TOKEN, ENGINES, call, depositMessage, enc, freshLine, login, startHarness, type Harness } from './harness.js';

const V1 = '/api/v1';

describe.each(ENGINES)('management API on %s', (engine) => {
  let h: Harness;
  const op = { token: OPERATOR_TOKEN };
  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => {
    await h.close();
  });

  async function provision(pin = '1234', routing: 'fax' | 'voicemail' = 'voicemail'): Promise<string> {
    const number = freshLine();
    const r = await call(h.base, 'POST', `${V1}/lines`, { ...op, body: { number, pin, routing } });
    expect(r.status).toBe(201);
    return number;
  }

  describe('lines (operator)', () => {
    test('create, get by encoded and plain number, list, delete', async () => {
      const number = freshLine();
      const created = await call(h.base, 'POST', `${V1}/lines`, { ...op, body: { number, pin: '4321', language: 'en', routing: 'fax' } });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ number, routing: 'fax', language: 'en', hasPin: true });
      expect(created.json).not.toHaveProperty('pinHash');

      for (const form of [enc(number), number.slice(1), number]) {
        const got = await call(h.base, 'GET', `${V1}/lines/${form}`, op);
        expect(got.status).toBe(200);
        expect(got.json.number).toBe(number);
      }
      const list = await call(h.base, 'GET', `${V1}/lines`, op);
      expect(list.json.map((l: { number: string }) => l.number)).toContain(number);

      expect((await call(h.base, 'POST', `${V1}/lines`, { ...op, body: { number } })).status).toBe(409);
      expect((await call(h.base, 'DELETE', `${V1}/lines/${enc(number)}`, op)).status).toBe(204);
      expect(await h.store.lines.find(number)).toBeUndefined();
      const gone = await call(h.base, 'GET', `${V1}/lines/${enc(number)}`, op);
      expect(gone.status).toBe(404);
      expect(gone.json).toEqual({ error: 'not_found', code: 'not_found', message: expect.stringContaining(number) });
      expect((await call(h.base, 'DELETE', `${V1}/lines/${enc(number)}`, op)).status).toBe(404);
    });

    test('bad input is a 400 naming the field, never a 500', async () => {
      const cases: [unknown, string][] = [
        [{ number: 'abc' }, 'number'],
        [{ number: freshLine(), pin: '12' }, 'pin'],
        [{ number: freshLine(), routing: 'modem' }, 'routing'],
        [{ number: freshLine(), language: 'de' }, 'language'],
        [{ number: freshLine(), extra: 1 }, 'extra'],
        [[], 'body'],
      ];
      for (const [body, field] of cases) {
        const r = await call(h.base, 'POST', `${V1}/lines`, { ...op, body });
        expect(r.status).toBe(400);
        expect(r.json.error).toBe('invalid_request');
        expect(r.json.message).toContain(field);
      }
      const malformed = await call(h.base, 'POST', `${V1}/lines`, {
        ...op,
        headers: { 'content-type': 'application/json' },
        body: undefined,
      });
      expect(malformed.status).toBe(400);
      const raw = await fetch(`${h.base}${V1}/lines`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        body: '{"number": ',
      });
      expect(raw.status).toBe(400);
      expect(await raw.json()).toMatchObject({ error: 'invalid_request' });
      expect((await call(h.base, 'GET', `${V1}/lines/not-a-number`, op)).status).toBe(400);
      expect((await call(h.base, 'GET', `${V1}/lines?limit=0`, op)).status).toBe(400);
    });
  });

  describe('routing', () => {
    test('GET, POST routing and POST changeRouting switch the line', async () => {
      const number = await provision('1234', 'fax');
      expect((await call(h.base, 'GET', `${V1}/lines/${enc(number)}/routing`, op)).json).toEqual({ routing: 'fax' });
      const set = await call(h.base, 'POST', `${V1}/lines/${enc(number)}/changeRouting`, { ...op, body: { routing: 'voicemail' } });
      expect(set.json).toEqual({ routing: 'voicemail' });
      expect((await h.store.lines.get(number)).routing).toBe('voicemail');
      await call(h.base, 'POST', `${V1}/lines/${enc(number)}/routing`, { ...op, body: { routing: 'fax' } });
      expect((await h.store.lines.get(number)).routing).toBe('fax');
      const bad = await call(h.base, 'POST', `${V1}/lines/${enc(number)}/routing`, { ...op, body: { routing: 'both' } });
      expect(bad.status).toBe(400);
      expect(bad.json.message).toContain('routing');
      expect((await call(h.base, 'GET', `${V1}/lines/${enc(freshLine())}/routing`, op)).status).toBe(404);
    });
  });

  describe('voicemail settings', () => {
    test('defaults, partial update, unreadMessages and validation', async () => {
      const number = await provision();
      const url = `${V1}/lines/${enc(number)}/voicemail/settings`;
      const initial = await call(h.base, 'GET', url, op);
      expect(initial.json).toMatchObject({ greetingType: 'default', audioFormat: 'wav', keepMessage: true, unreadMessages: 0 });

      const emails = [1, 2, 3, 4, 5].map((i) => ({ email: `u${i}@example.org`, type: i % 2 ? 'attachment' : 'simple' }));
      const put = await call(h.base, 'PUT', url, {
        ...op,
        body: { audioFormat: 'mp3', redirectionEmails: emails, fromName: 'Cabinet', doNotRecord: true, greetingType: 'short' },
      });
      expect(put.status).toBe(200);
      expect(put.json).toMatchObject({ audioFormat: 'mp3', fromName: 'Cabinet', doNotRecord: true, keepMessage: true });
      expect((await h.store.lines.getSettings(number)).redirectionEmails).toEqual(emails);

      await depositMessage(h.store, number);
      expect((await call(h.base, 'GET', url, op)).json.unreadMessages).toBe(1);

      const bad: [unknown, string][] = [
        [{ redirectionEmails: [...emails, { email: 'u6@example.org', type: 'simple' }] }, 'redirectionEmails'],
        [{ redirectionEmails: [{ email: 'not-an-address', type: 'simple' }] }, 'email'],
        [{ redirectionEmails: [{ email: 'a@example.org', type: 'fax' }] }, 'type'],
        [{ audioFormat: 'wma' }, 'audioFormat'],
        [{ fromEmail: 'nobody' }, 'fromEmail'],
        [{ keepMessage: 'yes' }, 'keepMessage'],
        [{ unreadMessages: 3 }, 'unreadMessages'],
      ];
      for (const [body, field] of bad) {
        const r = await call(h.base, 'PUT', url, { ...op, body });
        expect(r.status).toBe(400);
        expect(r.json.message).toContain(field);
      }
      // Nothing of the refused updates was stored.
      expect(await h.store.lines.getSettings(number)).toMatchObject({ audioFormat: 'mp3', keepMessage: true });
    });

    test('changePassword sets the PIN; voicemailNumbers lists the dial-in numbers', async () => {
      const number = await provision();
      const pw = `${V1}/lines/${enc(number)}/voicemail/changePassword`;
      expect((await call(h.base, 'POST', pw, { ...op, body: { password: '987654' } })).status).toBe(204);
      expect(await h.store.lines.verifyPin(number, '987654')).toBe(true);
      const bad = await call(h.base, 'POST', pw, { ...op, body: { password: '12ab' } });
      expect(bad.status).toBe(400);
      expect(bad.json.message).toContain('password');

      const numbers = await call(h.base, 'GET', `${V1}/lines/${enc(number)}/voicemail/voicemailNumbers`, op);
      expect(numbers.json).toEqual({ numbers: [{ number: '0033979947994', e164: '+33979947994' }] });
    });
  });

  describe('messages', () => {
    test('list with folder filter, get, move, delete; foreign or malformed ids', async () => {
      const number = await provision();
      const other = await provision();
      const a = await depositMessage(h.store, number, 1, '+33611111111');
      const b = await depositMessage(h.store, number, 3, '+33622222222');
      const foreign = await depositMessage(h.store, other, 1);
      const base = `${V1}/lines/${enc(number)}/voicemail/directories`;

      const all = await call(h.base, 'GET', `${base}?dir=inbox`, op);
      expect(all.json.map((m: { id: string }) => m.id).sort()).toEqual([a.id, b.id].sort());
      const one = await call(h.base, 'GET', `${base}/${b.id}`, op);
      expect(one.json).toMatchObject({ id: b.id, caller: '+33622222222', callee: number, duration: 3, dir: 'inbox' });
      expect(new Date(one.json.creationDatetime).toISOString()).toBe(one.json.creationDatetime);

      const moved = await call(h.base, 'POST', `${base}/${b.id}/move`, { ...op, body: { dir: 'family' } });
      expect(moved.json.dir).toBe('family');
      expect((await h.store.messages.get(b.id)).dir).toBe('family');
      expect((await call(h.base, 'GET', `${base}?dir=family`, op)).json.map((m: { id: string }) => m.id)).toEqual([b.id]);
      expect((await call(h.base, 'POST', `${base}/${b.id}/move`, { ...op, body: { dir: 'trash' } })).status).toBe(400);
      expect((await call(h.base, 'GET', `${base}?dir=trash`, op)).status).toBe(400);

      expect((await call(h.base, 'GET', `${base}/${foreign.id}`, op)).status).toBe(404);
      expect((await call(h.base, 'DELETE', `${base}/${foreign.id}`, op)).status).toBe(404);
      expect(await h.store.messages.get(foreign.id)).toBeDefined();
      for (const id of ['..%2F..%2Fetc%2Fpasswd', 'abc', '%00']) {
        const r = await call(h.base, 'GET', `${base}/${id}`, op);
        expect(r.status).toBe(400);
        expect(r.json.message).toContain('id');
      }
      expect((await call(h.base, 'GET', `${base}/00000000-0000-4000-8000-000000000000`, op)).status).toBe(404);

      expect((await call(h.base, 'DELETE', `${base}/${a.id}`, op)).status).toBe(204);
      await expect(h.store.messages.get(a.id)).rejects.toThrow('does not exist');
    });
  });

  describe('roles', () => {
    test('no credentials → 401, wrong token → 401, subscriber elsewhere → 403, operator routes → 403', async () => {
      const mine = await provision('2468');
      const theirs = await provision('1357');
      const r401 = await call(h.base, 'GET', `${V1}/lines/${enc(mine)}`);
      expect(r401.status).toBe(401);
      expect(r401.json.error).toBe('unauthorized');
      expect(r401.headers.get('www-authenticate')).toContain('Bearer');
      expect((await call(h.base, 'GET', `${V1}/lines/${enc(mine)}`, { token: 'nope' })).status).toBe(401);
      // 401 comes before input validation: an anonymous caller learns nothing about the route's inputs.
      expect((await call(h.base, 'POST', `${V1}/lines`, { body: { number: 'x' } })).status).toBe(401);

      const token = await login(h.base, mine, '2468');
      const sub = { token };
      expect((await call(h.base, 'GET', `${V1}/lines/${enc(mine)}`, sub)).status).toBe(200);
      expect((await call(h.base, 'GET', `${V1}/lines/${mine.slice(1)}/voicemail/settings`, sub)).status).toBe(200);
      expect((await call(h.base, 'POST', `${V1}/lines/${enc(mine)}/changeRouting`, { ...sub, body: { routing: 'fax' } })).status).toBe(200);
      for (const path of ['', '/routing', '/voicemail/settings', '/voicemail/directories', '/voicemail/greetings']) {
        const r = await call(h.base, 'GET', `${V1}/lines/${enc(theirs)}${path}`, sub);
        expect(r.status).toBe(403);
        expect(r.json.error).toBe('forbidden');
      }
      expect((await call(h.base, 'GET', `${V1}/lines`, sub)).status).toBe(403);
      expect((await call(h.base, 'POST', `${V1}/lines`, { ...sub, body: { number: freshLine() } })).status).toBe(403);
      expect((await call(h.base, 'DELETE', `${V1}/lines/${enc(mine)}`, sub)).status).toBe(403);
      expect(await h.store.lines.find(mine)).toBeDefined();
      expect((await call(h.base, 'GET', `${V1}/auth/session`, sub)).json).toEqual({ role: 'subscriber', line: mine, timeZone: 'Europe/Paris' });
      expect((await call(h.base, 'GET', `${V1}/auth/session`, op)).json).toEqual({ role: 'operator' });
    });

    test('an empty operator token disables operator access', async () => {
      const noOperator = await startHarness(engine, { operatorToken: '' });
      try {
        expect((await call(noOperator.base, 'GET', `${V1}/lines`, { token: '' })).status).toBe(401);
        expect((await call(noOperator.base, 'GET', `${V1}/lines`, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
      } finally {
        await noOperator.close();
      }
    });
  });

  describe('documents', () => {
    test('openapi.json covers every API route; /docs and / are served', async () => {
      const doc = await call(h.base, 'GET', `${V1}/openapi.json`);
      expect(doc.status).toBe(200);
      expect(doc.json.openapi).toBe('3.1.0');
      const documented = Object.entries(doc.json.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
      );
      const expected = [
        'POST /api/v1/lines', 'GET /api/v1/lines', 'GET /api/v1/lines/{line}', 'DELETE /api/v1/lines/{line}',
        'GET /api/v1/lines/{line}/routing', 'POST /api/v1/lines/{line}/routing', 'POST /api/v1/lines/{line}/changeRouting',
        'GET /api/v1/lines/{line}/voicemail/settings', 'PUT /api/v1/lines/{line}/voicemail/settings',
        'POST /api/v1/lines/{line}/voicemail/changePassword', 'GET /api/v1/lines/{line}/voicemail/voicemailNumbers',
        'POST /api/v1/lines/{line}/voicemail/greetings/{kind}', 'GET /api/v1/lines/{line}/voicemail/greetings',
        'GET /api/v1/lines/{line}/voicemail/greetings/{kind}/download', 'DELETE /api/v1/lines/{line}/voicemail/greetings/{kind}',
        'GET /api/v1/lines/{line}/voicemail/directories', 'GET /api/v1/lines/{line}/voicemail/directories/{id}',
        'DELETE /api/v1/lines/{line}/voicemail/directories/{id}', 'POST /api/v1/lines/{line}/voicemail/directories/{id}/move',
        'GET /api/v1/lines/{line}/voicemail/directories/{id}/download', 'POST /api/v1/auth/login', 'POST /api/v1/auth/logout',
        'GET /api/v1/auth/session', 'GET /api/v1/openapi.json', 'GET /api/v1/metrics', 'GET /healthz', 'GET /readyz',
        'GET /api/v1/outbox', 'POST /api/v1/outbox/retry', 'POST /api/v1/outbox/{id}/retry', 'GET /api/v1/retention-log',
        'GET /api/v1/lines/{line}/voicemail/directories/{id}/notifications',
        'POST /api/v1/lines/{line}/voicemail/directories/{id}/heard',
        'GET /api/v1/lines/{line}/mwi-contacts', 'POST /api/v1/lines/{line}/mwi-contacts', 'DELETE /api/v1/lines/{line}/mwi-contacts',
        // The OVH-compatible surface (src/api/routes/ovh).
        'DELETE /1.0/telephony/{billingAccount}/voicemail/{serviceName}/directories/{id}',
        'GET /1.0/auth/time',
        'GET /1.0/files/{token}',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/directories',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/directories/{id}',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/directories/{id}/download',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/settings',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/settings/routing',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/settings/voicemailNumbers',
        'POST /1.0/auth/credential',
        'POST /1.0/auth/credential/validate',
        'POST /1.0/auth/logout',
        'POST /1.0/auth/operator/credential',
        'POST /1.0/telephony/{billingAccount}/voicemail/{serviceName}/directories/{id}/move',
        'POST /1.0/telephony/{billingAccount}/voicemail/{serviceName}/settings/changePassword',
        'POST /1.0/telephony/{billingAccount}/voicemail/{serviceName}/settings/changeRouting',
        'PUT /1.0/telephony/{billingAccount}/voicemail/{serviceName}/settings',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/greetings',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/greetings/{id}',
        'DELETE /1.0/telephony/{billingAccount}/voicemail/{serviceName}/greetings/{id}',
        'GET /1.0/telephony/{billingAccount}/voicemail/{serviceName}/greetings/{id}/download',
        'GET /1.0/telephony/{billingAccount}/line',
        'GET /1.0/telephony/{billingAccount}/line/{serviceName}',
        'POST /1.0/telephony/{billingAccount}/voicemail/{serviceName}/greetings',
        'POST /1.0/me/document',
        'GET /1.0/me/document/{id}',
        'PUT /1.0/documents/{token}',
        'GET /1.0/documents/{token}',
      ];
      expect(documented.sort()).toEqual(expected.sort());
      // …and each documented route is one the server really answers.
      for (const key of expected) {
        const [method, path] = key.split(' ') as [string, string];
        expect(h.app.hasRoute({ method: method as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') })).toBe(true);
      }
      const settingsPut = doc.json.paths['/api/v1/lines/{line}/voicemail/settings'].put;
      expect(settingsPut.requestBody.content['application/json'].schema.properties.redirectionEmails.maxItems).toBe(5);
      expect(doc.json.paths['/api/v1/lines'].post['x-operator-only']).toBe(true);

      const docs = await call(h.base, 'GET', '/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toContain('text/html');
      const index = await call(h.base, 'GET', '/');
      expect(index.bytes.toString()).toContain('data-testid="login-form"');
      expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect((await call(h.base, 'GET', '/assets/app.js')).headers.get('content-type')).toContain('javascript');
      expect((await call(h.base, 'GET', '/assets/..%2Fserver.ts')).status).toBe(404);
      const unknown = await call(h.base, 'GET', '/nowhere');
      expect(unknown.status).toBe(404);
      expect(unknown.json.error).toBe('not_found');
    });
  });
});
