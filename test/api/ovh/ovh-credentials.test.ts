import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApiServer } from '../../../src/api/index.js';
import { runOperatorCommand } from '../../../src/cli/operator.js';
import type { Config } from '../../../src/shared/config.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { ENGINES, PG_URL, TestDatabase, freshLine, testConfig } from '../harness.js';
import { signedRequest, startOvhTlsFront, TEST_APP, type OvhTlsFront } from './ovh-harness.js';
import { alphanumericToken } from '../../../src/api/routes/ovh/credentials.js';

/** Runs an operator command, capturing what it writes. */
async function cli(config: Config, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runOperatorCommand(argv, config, { out: (c) => (out += c.toString()), err: (t) => (err += t) });
  return { code, out, err };
}

describe.each(ENGINES)('OVH consumer keys on %s', (engine) => {
  let db: TestDatabase;
  let config: Config;
  let store: Store | undefined;
  let app: FastifyInstance | undefined;
  let apiBase = '';
  let front: OvhTlsFront;

  /** Opens the store from its URL alone and serves the API on a fresh port: what a restart of répondeur does. */
  async function start(): Promise<void> {
    store = await openStore(config.database.url);
    app = await createApiServer({ store, config, logger: pino({ level: 'silent' }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    apiBase = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }
  async function stop(): Promise<void> {
    await app?.close();
    await store?.close();
    app = undefined;
    store = undefined;
  }

  beforeAll(async () => {
    db = new TestDatabase(engine);
    await (await db.open()).close();
    const url = engine === 'sqlite' ? db.url : `${PG_URL}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
    config = testConfig(url);
    config.api.ovhApplications = [TEST_APP];
    await start();
    front = await startOvhTlsFront(() => apiBase);
  }, 60_000);
  afterAll(async () => {
    await front?.close();
    await stop();
    await db?.cleanup();
  });

  test('a key issued by `repondeur ovh credential` works with the ovh client, survives a restart, and `ovh revoke` ends it', async () => {
    const line = freshLine();
    await store!.lines.create({ number: line, pin: '2468', routing: 'fax' });
    const issued = await cli(config, 'ovh', 'credential', '--line', line, '--json');
    expect(issued).toMatchObject({ code: 0, err: '' });
    const { consumerKey, state, applicationKey } = JSON.parse(issued.out) as { consumerKey: string; state: string; applicationKey: string };
    expect({ state, applicationKey }).toEqual({ state: 'validated', applicationKey: TEST_APP.key });
    const path = `/telephony/ovh-TEST/voicemail/00${line.slice(1)}/settings/routing`;
    expect(await front.client(consumerKey).requestPromised('GET', path)).toBe('fax');

    // Only the SHA-256 of the key is in the database.
    const rows = await store!.db.selectFrom('ovh_consumer_keys').selectAll().where('line', '=', line).execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(consumerKey);

    await stop();
    await start();
    expect(await front.client(consumerKey).requestPromised('GET', path)).toBe('fax');

    expect(await cli(config, 'ovh', 'revoke', consumerKey)).toMatchObject({ code: 0, out: 'consumer key revoked\n' });
    await expect(front.client(consumerKey).requestPromised('GET', path)).rejects.toMatchObject({ error: 403 });
    expect(await cli(config, 'ovh', 'revoke', consumerKey)).toMatchObject({ code: 1, err: expect.stringContaining('no such consumer key') });
  }, 60_000);

  test('a key revoked by /auth/logout is gone after a restart too; bad CLI input gets a clear error', async () => {
    const line = freshLine();
    await store!.lines.create({ number: line, pin: '2468', routing: 'voicemail' });
    const { out } = await cli(config, 'ovh', 'credential', '--line', line);
    const consumerKey = out.trim();
    expect(consumerKey).toMatch(/^[A-Za-z0-9]{32}$/);
    const api = front.client(consumerKey);
    expect(await api.requestPromised('GET', `/telephony/x/voicemail/00${line.slice(1)}/settings/routing`)).toBe('voicemail');
    expect((await signedRequest(front.port, 'POST', '/1.0/auth/logout', consumerKey, Math.round(Date.now() / 1000))).status).toBe(200);
    await stop();
    await start();
    await expect(api.requestPromised('GET', `/telephony/x/voicemail/00${line.slice(1)}/settings/routing`)).rejects.toMatchObject({ error: 403 });

    expect(await cli(config, 'ovh', 'credential', '--line', freshLine())).toMatchObject({ code: 1, err: expect.stringContaining('does not exist') });
    expect(await cli(config, 'ovh', 'credential', '--line', line, '--app', 'nope')).toMatchObject({ code: 1, err: expect.stringContaining('no OVH application "nope"') });
    expect(await cli(config, 'ovh', 'credential')).toMatchObject({ code: 2, err: expect.stringContaining('missing --line') });
    const none = { ...config, api: { ...config.api, ovhApplications: [] } };
    expect(await cli(none, 'ovh', 'credential', '--line', line)).toMatchObject({ code: 2, err: expect.stringContaining('no OVH application configured') });
  }, 60_000);
});

describe('consumer keys on the command line', () => {
  test('keys are 32 characters of [A-Za-z0-9], as OVH issues them: none reads as an option (a base64url key began with "-" one time in 64)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const key = alphanumericToken(32);
      expect(key).toMatch(/^[A-Za-z0-9]{32}$/);
      for (const c of key) seen.add(c);
    }
    expect(seen.size).toBe(62);
  });

  test('`ovh revoke -- <key>` takes a key that starts with "-" as the key, not as an option', async () => {
    const db = new TestDatabase('sqlite');
    try {
      await (await db.open()).close();
      const config = testConfig(db.url);
      expect(await cli(config, 'ovh', 'revoke', '-AbC')).toMatchObject({ code: 2 });
      expect(await cli(config, 'ovh', 'revoke', '--', '-AbC')).toMatchObject({ code: 1, err: expect.stringContaining('no such consumer key') });
    } finally {
      await db.cleanup();
    }
  });
});
