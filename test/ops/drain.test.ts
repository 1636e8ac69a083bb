/**
 * SIGTERM drain end to end: a real `repondeur serve` process takes 20 SIPp deposits; SIGTERM arrives while all of
 * them are in progress. New INVITEs and OPTIONS must get 503 with Retry-After, /readyz must say "not ready", every
 * call in progress must finish normally with its recording stored, and the process must then exit 0.
 */
import { afterAll, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp } from '../helpers/sipp.js';

const DEMO = '+33912345678';
const CALLS = 20;
let proc: ServerProcess | undefined;

afterAll(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
});

function count(logs: ServerProcess['logs'], msg: string): number {
  return logs.filter((l) => l.msg === msg).length;
}

test('SIGTERM during 20 deposits: none cut, all stored, new INVITE and OPTIONS get 503, exit 0', async () => {
  proc = await startServerProcess({ REPONDEUR_SHUTDOWN_DRAIN_SECONDS: '120' });
  const server = proc;
  const target = `127.0.0.1:${server.sipPort}`;
  const api = `http://127.0.0.1:${server.apiPort}`;
  const exited = new Promise<number | null>((res) => server.child.once('exit', (code) => res(code)));

  expect((await fetch(`${api}/healthz`)).status).toBe(200);
  const readyBefore = await fetch(`${api}/readyz`);
  expect(readyBefore.status).toBe(200);
  expect(await readyBefore.json()).toMatchObject({ status: 'ready', checks: { store: 'ok', sip: 'ok', draining: false } });

  const deposits = runSipp({
    scenario: 'load-deposit.xml',
    target,
    calls: CALLS,
    concurrency: CALLS,
    rate: CALLS,
    timeoutMs: 120000,
    extra: ['-default_behaviors', 'all,-abortunexp'],
  });
  // Every call is past its INVITE and playing the greeting: all 20 are in progress.
  await server.waitForLog(() => count(server.logs, 'deposit: greeting') >= CALLS, 30000);
  expect(count(server.logs, 'deposit: message stored')).toBe(0);
  server.child.kill('SIGTERM');
  await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('draining:'));

  const invite = await runSipp({ scenario: 'drain-invite-503.xml', target, timeoutMs: 10000 });
  expect(invite.code).toBe(0);
  expect(invite.logs).toMatch(/final=503 retry-after=\d+/);
  const options = await runSipp({ scenario: 'drain-options-503.xml', target, timeoutMs: 10000 });
  if (options.code !== 0) throw new Error(describeSipp(options));
  expect(options.logs).toMatch(/final=503 retry-after=\d+/);
  const readyDuring = await fetch(`${api}/readyz`);
  expect(readyDuring.status).toBe(503);
  expect(await readyDuring.json()).toMatchObject({ status: 'not ready', checks: { draining: true } });
  expect((await fetch(`${api}/healthz`)).status).toBe(200);

  const r = await deposits;
  if (r.code !== 0) throw new Error(describeSipp(r));
  expect(r.successful).toBe(CALLS);
  expect(r.failed).toBe(0);
  expect(await exited).toBe(0);
  expect(count(server.logs, 'deposit: message stored')).toBe(CALLS);
  expect(count(server.logs, 'call failed')).toBe(0);
  expect(server.logs.some((l) => l.msg === 'drained: no call in progress')).toBe(true);

  const store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
  try {
    const messages = await store.messages.list({ line: DEMO });
    expect(messages).toHaveLength(CALLS);
    // Three plays of g711a.pcap (3 × 7.05 s) in each.
    for (const m of messages) expect(m.durationMs).toBeGreaterThan(20000);
  } finally {
    await store.close();
  }
}, 180000);
