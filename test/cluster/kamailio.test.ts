/**
 * Two répondeur nodes on one PostgreSQL database behind Debian's Kamailio with deploy/kamailio/kamailio.cfg.tmpl:
 * SIPp deposits through the proxy succeed (ACK and BYE come back through it by Record-Route), a node killed
 * mid-run only loses its own in-flight calls, new calls go to the survivor, and every stored message is in the
 * shared store.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import { proxyPort } from '../helpers/ports.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp } from '../helpers/sipp.js';
import { PG_URL } from '../helpers/test-database.js';
import { until } from '../helpers/wait.js';

const DEMO = '+33912345678';
const PORT = proxyPort();
const work = mkdtempSync(join(tmpdir(), 'cluster-kamailio-'));
const dbName = `repondeur_kam_${randomBytes(6).toString('hex')}`;
const dbUrl = (() => {
  const u = new URL(PG_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const nodes: ServerProcess[] = [];
let kamailio: ChildProcess | undefined;
let kamailioLog = '';
let store: Store | undefined;

async function adminQuery(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

/** Sends OPTIONS for the demo line through the proxy until a node answers 200 (the proxy and a node are up). */
async function proxyAnswers(timeoutMs = 20000): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const local = sock.address().port;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kamailio did not relay OPTIONS within ${timeoutMs} ms:\n${kamailioLog.slice(-3000)}`)), timeoutMs);
      sock.on('message', (m) => {
        if (/^SIP\/2\.0 200/.test(m.toString())) {
          clearTimeout(timer);
          clearInterval(probe);
          resolve();
        }
      });
      let n = 0;
      const send = (): void => {
        n += 1;
        const msg =
          `OPTIONS sip:${DEMO}@127.0.0.1:${PORT} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-ready-${n}\r\n` +
          `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p${n}\r\nTo: <sip:${DEMO}@127.0.0.1>\r\nCall-ID: ready-${n}@test\r\n` +
          `CSeq: ${n} OPTIONS\r\nContent-Length: 0\r\n\r\n`;
        sock.send(msg, PORT, '127.0.0.1');
      };
      // Readiness poll: kamailio prints nothing once its listeners are up, so ask it until it relays.
      const probe = setInterval(send, 250);
      send();
    });
  } finally {
    sock.close();
  }
}

beforeAll(async () => {
  await adminQuery(`create database "${dbName}"`);
  for (let i = 0; i < 2; i++) nodes.push(await startServerProcess({ REPONDEUR_DATABASE_URL: dbUrl, REPONDEUR_SIP_TRUSTED_PROXIES: '127.0.0.1' }));
  const list = join(work, 'dispatcher.list');
  writeFileSync(list, nodes.map((n) => `1 sip:127.0.0.1:${n.sipPort}\n`).join(''));
  const cfg = readFileSync(join(ROOT, 'deploy', 'kamailio', 'kamailio.cfg.tmpl'), 'utf8')
    .replaceAll('@LISTEN_ADDR@', '127.0.0.1')
    .replaceAll('@LISTEN_PORT@', String(PORT))
    .replaceAll('@DISPATCHER_LIST@', list);
  writeFileSync(join(work, 'kamailio.cfg'), cfg);
  kamailio = spawn('kamailio', ['-f', join(work, 'kamailio.cfg'), '-DD', '-E', '-m', '64', '-M', '8', '-Y', work, '-w', work], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  kamailio.stdout!.on('data', (d: Buffer) => (kamailioLog += d.toString()));
  kamailio.stderr!.on('data', (d: Buffer) => (kamailioLog += d.toString()));
  await proxyAnswers();
  store = await openStore(dbUrl);
}, 90000);

afterAll(async () => {
  await store?.close();
  if (kamailio && kamailio.exitCode === null) {
    const exited = new Promise((res) => kamailio!.once('exit', res));
    kamailio.kill('SIGTERM');
    const t = setTimeout(() => kamailio!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  await Promise.all(nodes.map((n) => n.stop()));
  for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  await adminQuery(`drop database if exists "${dbName}" with (force)`);
}, 60000);

const storedIds = (n: ServerProcess): string[] => n.logs.filter((l) => l.msg === 'deposit: message stored').map((l) => String(l.messageId));

describe('two nodes behind Kamailio', () => {
  test('deposits through the proxy all succeed and are spread over both nodes', async () => {
    const r = await runSipp({ scenario: 'deposit-pcma.xml', target: `127.0.0.1:${PORT}`, calls: 4, concurrency: 4, rate: 4, timeoutMs: 90000 });
    expect(r.successful).toBe(4);
    expect(r.code).toBe(0);
    if (r.code !== 0) throw new Error(describeSipp(r));
    // A message is stored after the caller's BYE was answered: wait for both nodes to have logged all four.
    await until('four messages stored', () => storedIds(nodes[0]!).length + storedIds(nodes[1]!).length >= 4, 30_000);
    // Round robin: each node took calls; every message both stored is in the one shared store.
    expect(storedIds(nodes[0]!).length).toBeGreaterThan(0);
    expect(storedIds(nodes[1]!).length).toBeGreaterThan(0);
    const all = (await store!.messages.list({ line: DEMO })).map((m) => m.id).sort();
    expect(all).toEqual([...storedIds(nodes[0]!), ...storedIds(nodes[1]!)].sort());
  }, 120000);

  test('dial-in through the proxy: wrong PINs are recorded with the caller\'s address, not the proxy\'s', async () => {
    // SIPp calls from 127.0.0.2; Kamailio (127.0.0.1, in sip.trustedProxies) relays, so the node sees 127.0.0.1.
    const r = await runSipp({
      scenario: 'dialin-wrong-pin.xml',
      target: `127.0.0.1:${PORT}`,
      service: '0033979947994',
      extra: ['-key', 'caller', '0611223344', '-key', 'mailbox', '0912345678', '-i', '127.0.0.2'],
      timeoutMs: 90000,
    });
    if (r.code !== 0) throw new Error(describeSipp(r));
    const failures = await store!.authFailures.list({ line: DEMO });
    expect(failures).toHaveLength(3);
    expect(failures.map((f) => f.remote)).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.2']);
  }, 120000);

  test('a node killed mid-run only loses its own calls; new calls go to the survivor', async () => {
    const [victim, survivor] = nodes as [ServerProcess, ServerProcess];
    const victimBefore = victim.logs.filter((l) => l.msg === 'deposit: greeting').length;
    const running = runSipp({ scenario: 'deposit-pcma.xml', target: `127.0.0.1:${PORT}`, calls: 4, concurrency: 4, rate: 4, timeoutMs: 90000 });
    // Kill the victim while it is answering one of these calls.
    await victim.waitForLog(() => victim.logs.filter((l) => l.msg === 'deposit: greeting').length > victimBefore, 30000);
    const inFlightOnVictim = victim.logs.filter((l) => l.msg === 'deposit: greeting').length - victimBefore;
    await victim.stop('SIGKILL');
    const r = await running;
    // Round robin gave the victim at most half of the 4 calls; those it had answered may fail, no other.
    expect(inFlightOnVictim).toBeGreaterThan(0);
    expect(r.failed).toBeLessThanOrEqual(2);
    expect(r.successful + r.failed).toBe(4);

    const survivorBefore = storedIds(survivor).length;
    const after = await runSipp({ scenario: 'deposit-pcma.xml', target: `127.0.0.1:${PORT}`, calls: 2, concurrency: 2, rate: 2, timeoutMs: 90000 });
    expect(after.successful).toBe(2);
    // Stored after the BYE is answered, so possibly after SIPp exits.
    await until('the survivor storing both new messages', () => storedIds(survivor).length - survivorBefore >= 2, 30_000);

    const all = (await store!.messages.list({ line: DEMO })).map((m) => m.id);
    for (const id of [...storedIds(victim), ...storedIds(survivor)]) expect(all).toContain(id);
  }, 180000);
});
