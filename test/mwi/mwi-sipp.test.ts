/**
 * MWI end to end: a real `repondeur serve` process, SIPp as the subscribing phone (sipp-scenarios/mwi-subscribe.xml),
 * a second SIPp leaving a message on the line, the message marked heard through the operator API. SIPp checks each
 * NOTIFY's body with regexps: 0/0 at once, 1/0 after the deposit, 0/1 after the heard mark, then terminated.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp, type SippResult } from '../helpers/sipp.js';

const DEMO = '+33912345678';
const TOKEN = 'mwi-operator-token';

describe('MWI: SIPp subscribes to message-summary and sees the counts follow the mailbox', () => {
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    server = await startServerProcess({ REPONDEUR_API_OPERATOR_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const notifiesAnswered = (n: number) =>
    server!.waitForLog((l) => l.msg === 'NOTIFY answered' && l.status === 200 && server!.logs.filter((x) => x.msg === 'NOTIFY answered' && x.status === 200).length >= n, 60000);

  test('SUBSCRIBE → NOTIFY 0/0; deposit → 1/0; heard via the API → 0/1; Expires: 0 → terminated', async () => {
    const s = server!;
    const abort = new AbortController();
    const target = `127.0.0.1:${s.sipPort}`;
    const subscriber: Promise<SippResult> = runSipp({ target, scenario: 'mwi-subscribe.xml', service: DEMO, timeoutMs: 150000, signal: abort.signal });
    try {
      await notifiesAnswered(1);
      const deposit = await runSipp({ target, scenario: 'deposit-pcma.xml', service: DEMO, timeoutMs: 90000 });
      if (deposit.code !== 0) throw new Error(`deposit: ${describeSipp(deposit)}`);
      await notifiesAnswered(2);

      const api = `http://127.0.0.1:${s.apiPort}/api/v1/lines/${encodeURIComponent(DEMO)}/voicemail/directories`;
      const auth = { authorization: `Bearer ${TOKEN}` };
      const list = (await (await fetch(`${api}?dir=inbox`, { headers: auth })).json()) as Array<{ id: string }>;
      expect(list).toHaveLength(1);
      const heard = await fetch(`${api}/${list[0]!.id}/heard`, { method: 'POST', headers: auth });
      expect(heard.status).toBe(200);

      const r = await subscriber;
      if (r.code !== 0) throw new Error(describeSipp(r));
      expect(r.logs).toContain('NOTIFY 1 active;expires= Messages-Waiting: no Voice-Message: 0/0');
      expect(r.logs).toContain('NOTIFY 2 Messages-Waiting: yes Voice-Message: 1/0');
      expect(r.logs).toContain('NOTIFY 3 Messages-Waiting: no Voice-Message: 0/1');
      expect(r.logs).toContain('NOTIFY 4 terminated;reason=timeout');
      // The server logs the end once SIPp's 200 to the final NOTIFY is in: possibly just after SIPp exits.
      await s.waitForLog((l) => l.msg === 'MWI subscription ended' && l.reason === 'timeout', 10000);
    } finally {
      abort.abort();
      await subscriber.catch(() => undefined);
    }
  }, 180000);
});

describe('MWI at shutdown', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  test('SIGTERM ends every subscription with NOTIFY terminated;reason=deactivated before the process exits', async () => {
    server = await startServerProcess();
    const s = server;
    const abort = new AbortController();
    const subscriber = runSipp({ target: `127.0.0.1:${s.sipPort}`, scenario: 'mwi-shutdown.xml', service: DEMO, timeoutMs: 90000, signal: abort.signal });
    try {
      await s.waitForLog((l) => l.msg === 'NOTIFY answered' && l.status === 200, 60000);
      expect(await s.stop('SIGTERM')).toBe(0);
      const r = await subscriber;
      if (r.code !== 0) throw new Error(describeSipp(r));
      expect(r.logs).toContain('NOTIFY 2 terminated;reason=deactivated');
      expect(s.logs.some((l) => l.msg === 'MWI subscription ended' && l.reason === 'deactivated')).toBe(true);
    } finally {
      abort.abort();
      await subscriber.catch(() => undefined);
    }
  }, 120000);
});
