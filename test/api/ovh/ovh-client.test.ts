import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { launchTestBrowser } from '../../helpers/browser.js';
import pino from 'pino';
import { transcodeStoredWav } from '../../../src/api/audio.js';
import { createApiServer } from '../../../src/api/index.js';
import { decodeAudio } from '../../../src/shared/audio/index.js';
import type { Store } from '../../../src/store/index.js';
import { freshLine, OPERATOR_TOKEN, TestDatabase, testConfig, toneWav } from '../harness.js';
import { httpsGet, httpsPut, signedRequest, startOvhTlsFront, TEST_APP as APP, type OvhTlsFront } from './ovh-harness.js';

const PIN = '4826';

let db: TestDatabase;
let store: Store;
let app: FastifyInstance;
let front: OvhTlsFront;
let apiBase: string;
let port: number;

beforeAll(async () => {
  db = new TestDatabase('sqlite');
  store = await db.open();
  const config = testConfig(db.url);
  config.api.ovhApplications = [APP];
  // The TLS front is a reverse proxy on this host: its X-Forwarded-Proto tells the API the page is served over https.
  config.api.trustedProxies = ['127.0.0.1'];
  app = await createApiServer({ store, config, logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apiBase = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  front = await startOvhTlsFront(() => apiBase);
  port = front.port;
}, 60_000);

afterAll(async () => {
  await front?.close();
  await app?.close();
  await db?.cleanup();
});

const client = (consumerKey?: string) => front.client(consumerKey);

/** The subscriber opens validationUrl in Chromium and logs in to the web manager, which validates the consumer key. */
async function validate(validationUrl: string, line: string): Promise<void> {
  const browser = await launchTestBrowser({ ignoreHTTPSErrors: true });
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(validationUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByTestId('login-line').fill(line.slice(1));
    await page.getByTestId('login-pin').fill(PIN);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('ok-routing').filter({ hasText: /\w/ }).waitFor();
    expect(await page.getByTestId('ok-routing').textContent()).toBe('Accès de l’application à l’API autorisé pour cette ligne.');
  } finally {
    await browser.close();
  }
}

test('the official OVH client lists, downloads, moves and deletes messages and changes settings, PIN and routing', async () => {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'fax' });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { message } = await store.messages.create({ line, caller: `+3361122334${i}`, callee: line, durationMs: 2000, wav: toneWav(2), creationDatetime: Date.UTC(2026, 10, 20 + i) });
    ids.push(message.id);
  }
  const serviceName = `00${line.slice(1)}`;
  const base = `/telephony/ovh-TEST-1/voicemail/${serviceName}`;

  expect(typeof (await client().requestPromised('GET', '/auth/time'))).toBe('number');
  const credential = (await client().requestPromised('POST', '/auth/credential', { accessRules: [{ method: 'GET', path: '/telephony/*' }] })) as { validationUrl: string; consumerKey: string; state: string };
  expect(credential.state).toBe('pendingValidation');
  // Not validated yet: refused.
  await expect(client(credential.consumerKey).requestPromised('GET', `${base}/settings`)).rejects.toMatchObject({ error: 403 });
  await validate(credential.validationUrl, line);
  const api = client(credential.consumerKey);

  // Messages: numeric ids, newest first, telephony.VoicemailMessages.
  const list = (await api.requestPromised('GET', `${base}/directories`)) as number[];
  expect(list).toHaveLength(3);
  expect(list.every((id) => Number.isSafeInteger(id))).toBe(true);
  const newest = (await api.requestPromised('GET', `${base}/directories/${list[0]}`)) as Record<string, unknown>;
  expect(newest).toEqual({ id: list[0], caller: '+33611223342', callee: line, creationDatetime: new Date(Date.UTC(2026, 10, 22)).toISOString(), dir: 'inbox', duration: 2 });
  expect(await api.requestPromised('GET', `${base}/directories`, { dir: 'old' })).toEqual([]);

  // Download: telephony.PcsFile whose url serves the file.
  const file = (await api.requestPromised('GET', `${base}/directories/${list[0]}/download`, { format: 'mp3' })) as { url: string; filename: string; status: string };
  expect(file).toMatchObject({ status: 'done', filename: `message-${list[0]}.mp3` });
  const audio = await httpsGet(file.url);
  expect(audio.status).toBe(200);
  expect(audio.type).toContain('audio/mpeg');
  const decoded = await decodeAudio(audio.body);
  expect(Math.abs(decoded.samples.length / decoded.channels / decoded.sampleRate - 2)).toBeLessThan(0.1);

  // Move and delete.
  await api.requestPromised('POST', `${base}/directories/${list[1]}/move`, { dir: 'work' });
  expect((await store.messages.get(ids[1]!)).dir).toBe('work');
  expect(await api.requestPromised('GET', `${base}/directories`, { dir: 'work' })).toEqual([list[1]]);
  await api.requestPromised('DELETE', `${base}/directories/${list[2]}`);
  await expect(store.messages.get(ids[0]!)).rejects.toThrow('does not exist');
  await expect(api.requestPromised('GET', `${base}/directories/${list[2]}`)).rejects.toMatchObject({ error: 404 });

  // Settings (telephony.VoicemailProperties), with a non-ASCII name the client escapes as \uXXXX.
  await api.requestPromised('PUT', `${base}/settings`, { audioFormat: 'ogg', fromName: 'Cabinet Lefèvre', redirectionEmails: [{ email: 'a@example.org', type: 'simple' }], doNotRecord: true });
  const settings = (await api.requestPromised('GET', `${base}/settings`)) as Record<string, unknown>;
  expect(settings).toMatchObject({ audioFormat: 'ogg', fromName: 'Cabinet Lefèvre', doNotRecord: true, redirectionEmails: [{ email: 'a@example.org', type: 'simple' }], annouceMessage: '', isNewVersion: true, unreadMessages: 1, greetingType: 'default' });
  expect(await api.requestPromised('GET', `${base}/settings/voicemailNumbers`)).toEqual({ external: expect.any(String), internal: expect.any(String) });

  // PIN and routing.
  await api.requestPromised('POST', `${base}/settings/changePassword`, { password: '13579' });
  expect(await store.lines.verifyPin(line, '13579')).toBe(true);
  expect(await api.requestPromised('GET', `${base}/settings/routing`)).toBe('fax');
  await api.requestPromised('POST', `${base}/settings/changeRouting`, { routing: 'voicemail' });
  expect(await api.requestPromised('GET', `${base}/settings/routing`)).toBe('voicemail');
  expect((await store.lines.get(line)).routing).toBe('voicemail');
  await expect(api.requestPromised('POST', `${base}/settings/changeRouting`, { routing: 'modem' })).rejects.toMatchObject({ error: 400 });

  // Greetings: telephony.VoicemailGreetings, downloaded through a PcsFile, deleted.
  await store.greetings.put(line, 'busy', { wav: toneWav(1), durationMs: 1000 });
  expect(await api.requestPromised('GET', `${base}/greetings`)).toEqual([2]);
  expect(await api.requestPromised('GET', `${base}/greetings/2`)).toEqual({ id: 2, dir: 'busy', callee: line });
  const greetingFile = (await api.requestPromised('GET', `${base}/greetings/2/download`)) as { url: string; filename: string };
  expect(greetingFile.filename).toBe('greeting-busy.wav');
  expect((await httpsGet(greetingFile.url)).type).toContain('audio/wav');
  await api.requestPromised('DELETE', `${base}/greetings/2`);
  expect(await store.greetings.get(line, 'busy')).toBeUndefined();
  expect(await api.requestPromised('GET', `${base}/greetings`)).toEqual([]);

  // Another line and a wrong secret are refused.
  const other = freshLine();
  await store.lines.create({ number: other, pin: PIN, routing: 'voicemail' });
  await expect(api.requestPromised('GET', `/telephony/x/voicemail/00${other.slice(1)}/settings`)).rejects.toMatchObject({ error: 403 });
  const forged = front.client(credential.consumerKey, 'not-the-secret-of-the-application');
  await expect(forged.requestPromised('GET', `${base}/settings`)).rejects.toMatchObject({ error: 400, message: 'Invalid signature' });
}, 60_000);

test('the operator issues a consumer key for a line', async () => {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  const r = await fetch(`${apiBase}/1.0/auth/operator/credential`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` }, body: JSON.stringify({ applicationKey: APP.key, line }) });
  const { consumerKey } = (await r.json()) as { consumerKey: string };
  expect(await client(consumerKey).requestPromised('GET', `/telephony/x/voicemail/00${line.slice(1)}/settings/routing`)).toBe('voicemail');
  const noToken = await fetch(`${apiBase}/1.0/auth/operator/credential`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ applicationKey: APP.key, line }) });
  expect(noToken.status).toBe(401);
});

test('signatures outside the allowed clock skew are refused; /auth/logout revokes the consumer key', async () => {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  const issued = await fetch(`${apiBase}/1.0/auth/operator/credential`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` }, body: JSON.stringify({ applicationKey: APP.key, line }) });
  const { consumerKey } = (await issued.json()) as { consumerKey: string };
  const path = `/1.0/telephony/x/voicemail/00${line.slice(1)}/settings/routing`;
  const now = Math.round(Date.now() / 1000);
  expect(await signedRequest(port, 'GET', path, consumerKey, now)).toEqual({ status: 200, body: '"voicemail"' });
  const stale = await signedRequest(port, 'GET', path, consumerKey, now - 3600);
  expect(stale.status).toBe(400);
  expect(JSON.parse(stale.body)).toMatchObject({ code: 'ovh_bad_timestamp' });
  expect((await signedRequest(port, 'POST', '/1.0/auth/logout', consumerKey, now)).status).toBe(200);
  expect((await signedRequest(port, 'GET', path, consumerKey, now)).status).toBe(403);
});

test('the line under /telephony/{billingAccount}/line/{serviceName} is telephony.Line, for the key’s line only', async () => {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'fax' });
  const issued = await fetch(`${apiBase}/1.0/auth/operator/credential`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` }, body: JSON.stringify({ applicationKey: APP.key, line }) });
  const api = client(((await issued.json()) as { consumerKey: string }).consumerKey);
  const serviceName = `00${line.slice(1)}`;

  expect(await api.requestPromised('GET', '/telephony/ovh-TEST-1/line')).toEqual([serviceName]);
  expect(await api.requestPromised('GET', `/telephony/ovh-TEST-1/line/${serviceName}`)).toEqual({
    serviceName,
    serviceType: 'line',
    description: '',
    offers: [],
    canChangePassword: false,
    isAttachedToOtherLinesPhone: false,
    deviceSlot: null,
    getPublicOffer: null,
    infrastructure: null,
    notifications: null,
    simultaneousLines: null,
  });
  // Same line in its E.164 spelling; another line is refused; the fax/voicemail routing is where OVH keeps it.
  expect(await api.requestPromised('GET', `/telephony/ovh-TEST-1/line/${encodeURIComponent(line)}`)).toMatchObject({ serviceName });
  const other = freshLine();
  await store.lines.create({ number: other, pin: PIN, routing: 'voicemail' });
  await expect(api.requestPromised('GET', `/telephony/ovh-TEST-1/line/00${other.slice(1)}`)).rejects.toMatchObject({ error: 403 });
  expect(await api.requestPromised('GET', `/telephony/ovh-TEST-1/voicemail/${serviceName}/settings/routing`)).toBe('fax');
  const unknown = await signedRequest(port, 'GET', '/1.0/telephony/ovh-TEST-1/line', 'an-unknown-consumer-key-0123456', Math.round(Date.now() / 1000));
  expect({ status: unknown.status, code: JSON.parse(unknown.body).code }).toEqual({ status: 403, code: 'ovh_invalid_credential' });
});

test('a greeting is uploaded the OVH way: POST /me/document, PUT to putUrl, POST greetings { dir, documentId }', async () => {
  const line = freshLine();
  await store.lines.create({ number: line, pin: PIN, routing: 'voicemail' });
  const issued = await fetch(`${apiBase}/1.0/auth/operator/credential`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` }, body: JSON.stringify({ applicationKey: APP.key, line }) });
  const api = client(((await issued.json()) as { consumerKey: string }).consumerKey);
  const base = `/telephony/ovh-TEST-1/voicemail/00${line.slice(1)}`;
  const mp3 = (await transcodeStoredWav(toneWav(2), 'mp3')).data;

  const created = (await api.requestPromised('POST', '/me/document', { name: 'accueil.mp3', tags: [{ key: 'use', value: 'greeting' }] })) as Record<string, unknown>;
  expect(created).toMatchObject({ name: 'accueil.mp3', size: null, tags: [{ key: 'use', value: 'greeting' }], validationDate: null });
  expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(created.putUrl).toMatch(/^https:\/\/localhost(:\d+)?\/1\.0\/documents\//);
  expect(Object.keys(created).sort()).toEqual(['creationDate', 'expirationDate', 'getUrl', 'id', 'name', 'putUrl', 'size', 'tags', 'validationDate']);
  // Not uploaded yet: the greeting call says so.
  await expect(api.requestPromised('POST', `${base}/greetings`, { dir: 'unavail', documentId: created.id })).rejects.toMatchObject({ error: 400 });

  expect(await httpsPut(String(created.putUrl), mp3, 'audio/mpeg')).toBe(200);
  expect(await api.requestPromised('GET', `/me/document/${String(created.id)}`)).toMatchObject({ id: created.id, size: mp3.length });
  expect(await api.requestPromised('POST', `${base}/greetings`, { dir: 'unavail', documentId: created.id })).toBe(1);

  // Stored as the /api/v1 upload stores it (8 kHz mono WAV, duration measured): what the dial-in plays.
  const stored = await store.greetings.get(line, 'unavail');
  expect(Math.abs(stored!.durationMs - 2000)).toBeLessThan(100);
  const decoded = await decodeAudio(stored!.wav);
  expect({ rate: decoded.sampleRate, channels: decoded.channels }).toEqual({ rate: 8000, channels: 1 });
  expect(await api.requestPromised('GET', `${base}/greetings`)).toEqual([1]);
  expect(await api.requestPromised('GET', `${base}/greetings/1`)).toEqual({ id: 1, dir: 'unavail', callee: line });
  // A document serves once.
  await expect(api.requestPromised('POST', `${base}/greetings`, { dir: 'busy', documentId: created.id })).rejects.toMatchObject({ error: 404 });

  // Bytes that are no audio are refused by the same checks as /api/v1, and nothing is stored.
  const junk = (await api.requestPromised('POST', '/me/document', { name: 'notes.txt' })) as { id: string; putUrl: string };
  expect(await httpsPut(junk.putUrl, Buffer.from('this is not a sound file at all'), 'application/octet-stream')).toBe(200);
  await expect(api.requestPromised('POST', `${base}/greetings`, { dir: 'busy', documentId: junk.id })).rejects.toMatchObject({ error: 400 });
  expect(await store.greetings.get(line, 'busy')).toBeUndefined();
  // OVH's body fields are checked: an unknown dir is refused.
  await expect(api.requestPromised('POST', `${base}/greetings`, { dir: 'name', documentId: junk.id })).rejects.toMatchObject({ error: 400 });
  // An unknown upload link is refused.
  expect(await httpsPut(`https://localhost:${port}/1.0/documents/aaaaaaaaaaaaaaaaaaaaaaaa`, mp3, 'audio/mpeg')).toBe(404);
}, 60_000);
