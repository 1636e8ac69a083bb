/**
 * Unsolicited MWI end to end: a real `repondeur serve` process; SIPp is a phone that never subscribes, listed as
 * the line's MWI contact through the operator API (sipp-scenarios/mwi-unsolicited-phone.xml). It receives
 * out-of-dialog NOTIFYs: 0/0 when added, 1/0 after a deposit, 0/1 after the message is heard, 0/0 once deleted;
 * then a contact that does not answer is counted as failed in /metrics, and the server goes on.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp, type SippResult } from '../helpers/sipp.js';
import { sippPorts } from '../helpers/ports.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';

const DEMO = '+33912345678';
const TOKEN = 'mwi-unsolicited-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('unsolicited MWI: a phone listed as the line’s contact gets NOTIFY on every change', () => {
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    server = await startServerProcess({ REPONDEUR_API_OPERATOR_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const accepted = (n: number) =>
    server!.waitForLog(() => server!.logs.filter((l) => l.msg === 'unsolicited MWI NOTIFY accepted').length >= n, 60000);

  test('contact added → 0/0; deposit → 1/0; heard → 0/1; deleted → 0/0; an unreachable contact is counted, not fatal', async () => {
    const s = server!;
    const target = `127.0.0.1:${s.sipPort}`;
    const base = `http://127.0.0.1:${s.apiPort}/api/v1/lines/${encodeURIComponent(DEMO)}`;
    const phonePort = sippPorts().sip;
    const abort = new AbortController();
    const phone: Promise<SippResult> = runSipp({ target, scenario: 'mwi-unsolicited-phone.xml', localPort: phonePort, calls: 4, timeoutMs: 150000, signal: abort.signal });
    try {
      // SIPp binds its port before reading the scenario's first recv; retransmissions (timer E) cover a late bind.
      const uri = `sip:phone@127.0.0.1:${phonePort}`;
      const added = await fetch(`${base}/mwi-contacts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ uri }) });
      expect(added.status).toBe(201);
      const listed = (await (await fetch(`${base}/mwi-contacts`, { headers: auth })).json()) as Array<{ uri: string }>;
      expect(listed.map((c) => c.uri)).toEqual([uri]);
      await accepted(1);

      const deposit = await runSipp({ target, scenario: 'deposit-pcma.xml', service: DEMO, timeoutMs: 90000 });
      if (deposit.code !== 0) throw new Error(`deposit: ${describeSipp(deposit)}`);
      await accepted(2);

      const dirs = `${base}/voicemail/directories`;
      const list = (await (await fetch(`${dirs}?dir=inbox`, { headers: auth })).json()) as Array<{ id: string }>;
      expect(list).toHaveLength(1);
      expect((await fetch(`${dirs}/${list[0]!.id}/heard`, { method: 'POST', headers: auth })).status).toBe(200);
      await accepted(3);
      expect((await fetch(`${dirs}/${list[0]!.id}`, { method: 'DELETE', headers: auth })).status).toBeLessThan(300);

      const r = await phone;
      if (r.code !== 0) throw new Error(describeSipp(r));
      const seen = [...r.logs.matchAll(/NOTIFY \[?(active)\]? (yes|no) (\d+\/\d+)/g)].map((m) => `${m[2]} ${m[3]}`);
      expect(seen).toEqual(['no 0/0', 'yes 1/0', 'no 0/1', 'no 0/0']);

      // A contact nobody answers: timer F ends the transaction; logged, counted, and the server is still fine.
      const deadPort = sippPorts().sip;
      const dead = `sip:nobody@127.0.0.1:${deadPort}`;
      expect((await fetch(`${base}/mwi-contacts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ uri: dead }) })).status).toBe(201);
      await s.waitForLog((l) => String(l.msg).startsWith('unsolicited MWI NOTIFY not answered') && l.uri === dead, 60000);
      const metrics = await (await fetch(`http://127.0.0.1:${s.apiPort}/metrics`, { headers: auth })).text();
      expect(metrics).toMatch(/repondeur_mwi_unsolicited_notify_total\{outcome="failed"\} [1-9]/);
      expect(metrics).toMatch(/repondeur_mwi_unsolicited_notify_total\{outcome="accepted"\} [4-9]/);
      expect((await fetch(`${base}/mwi-contacts?uri=${encodeURIComponent(dead)}`, { method: 'DELETE', headers: auth })).status).toBe(204);
      expect((await fetch(`http://127.0.0.1:${s.apiPort}/readyz`)).status).toBe(200);
      const bad = await fetch(`${base}/mwi-contacts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ uri: 'mailto:x@y' }) });
      expect(bad.status).toBe(400);
    } finally {
      abort.abort();
      await phone.catch(() => undefined);
    }
  }, 240000);
});

describe('unsolicited MWI at start', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  test('a line with a contact and a message announces 1/0 to it when the server starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repondeur-mwi-start-'));
    const phonePort = sippPorts().sip + 7;
    const store = await openStore(`sqlite:${join(dir, 'repondeur.db')}`);
    try {
      await store.lines.ensure({ number: DEMO, routing: 'voicemail', pin: '1234', language: 'fr' });
      await store.messages.create({ line: DEMO, caller: '+33612345678', callee: DEMO, durationMs: 1000, wav: silentWav() }, { notifications: [], maxMessages: 100 });
      await store.mwiContacts.add(DEMO, `sip:desk@127.0.0.1:${phonePort}`);
    } finally {
      await store.close();
    }
    const abort = new AbortController();
    const phone = runSipp({ target: '127.0.0.1:9', scenario: 'mwi-unsolicited-phone.xml', localPort: phonePort, calls: 1, timeoutMs: 60000, signal: abort.signal });
    try {
      server = await startServerProcess({}, { dir });
      const r = await phone;
      if (r.code !== 0) throw new Error(describeSipp(r));
      expect(r.logs).toContain('NOTIFY active yes 1/0');
    } finally {
      abort.abort();
      await phone.catch(() => undefined);
    }
  }, 90000);
});

/** One second of 8 kHz 16-bit mono silence as a WAV file. */
function silentWav(): Buffer {
  const data = Buffer.alloc(16000);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
