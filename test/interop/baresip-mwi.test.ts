/**
 * Message-waiting light on a real softphone: baresip 1.0 (Debian `baresip-core`) with its `mwi` module. That module
 * subscribes to message-summary only once a REGISTER succeeded (UA_EVENT_REGISTER_OK) and answers an unsolicited
 * NOTIFY with 481 (no subscription): so répondeur lists 127.0.0.1 in `mwi.trustedSources`, answers its REGISTER
 * 200 (no binding kept) and serves its SUBSCRIBE. baresip reports each NOTIFY body as a MWI_NOTIFY event on its
 * ctrl_tcp socket (netstring JSON): 0/0 at once, 1/0 after SIPp leaves a message on the line.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { describeSipp, runSipp } from '../helpers/sipp.js';
import { until } from '../helpers/wait.js';

const MODULES = '/usr/lib/baresip/modules';
const DEMO = '+33912345678';

async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The JSON objects of a netstring stream ("<len>:<json>,"). */
function readNetstrings(socket: Socket, onMessage: (m: Record<string, unknown>) => void): void {
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const colon = buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 1 + len + 1) return;
      const json = buf.subarray(colon + 1, colon + 1 + len).toString();
      buf = buf.subarray(colon + 1 + len + 1);
      try {
        onMessage(JSON.parse(json) as Record<string, unknown>);
      } catch {
        // not JSON: ignore
      }
    }
  });
}

describe('baresip MWI', () => {
  let server: ServerProcess | undefined;
  let baresip: ChildProcess | undefined;
  let ctrl: Socket | undefined;
  let out = '';
  beforeAll(async () => {
    server = await startServerProcess({ REPONDEUR_MWI_TRUSTED_SOURCES: '127.0.0.1' });
  });
  afterAll(async () => {
    ctrl?.destroy();
    try {
      if (baresip && baresip.exitCode === null && baresip.signalCode === null) {
        // baresip may ignore SIGTERM while busy (seen on a loaded CI machine): SIGKILL after 3 s, never left behind.
        const exited = new Promise((r) => baresip!.once('exit', r));
        baresip.kill('SIGTERM');
        const force = setTimeout(() => baresip!.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(force);
      }
    } finally {
      await server?.stop();
    }
  }, 30_000);

  test('baresip registers, subscribes and shows the counts: 0/0, then 1/0 after a deposit', async () => {
    if (!existsSync('/usr/bin/baresip')) throw new Error('baresip is not installed: apt-get install -y baresip-core');
    const s = server!;
    const dir = mkdtempSync(join(tmpdir(), 'baresip-mwi-'));
    const ctrlPort = await freeTcpPort();
    mkdirSync(join(dir, 'conf'));
    writeFileSync(
      join(dir, 'conf', 'config'),
      ['sip_listen 127.0.0.1:0', `module_path ${MODULES}`, 'module g711.so', 'module account.so', 'module_app account.so', 'module_app mwi.so', 'module_app ctrl_tcp.so', `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`, ''].join('\n'),
    );
    writeFileSync(join(dir, 'conf', 'accounts'), `<sip:${DEMO}@127.0.0.1:${s.sipPort}>;regint=600;mwi=yes\n`);
    baresip = spawn('baresip', ['-f', join(dir, 'conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    baresip.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    baresip.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until('baresip ready', () => /baresip is ready/.test(out), 20000);

    const notifies: string[] = [];
    ctrl = connect(ctrlPort, '127.0.0.1');
    readNetstrings(ctrl, (m) => {
      if (m.type === 'MWI_NOTIFY') notifies.push(String(m.param ?? ''));
    });
    // baresip may have got the first NOTIFY before ctrl_tcp was connected: its log says so too.
    const sipTrail = (): string =>
      s.logs
        .filter((l) => /REGISTER|SUBSCRIBE|NOTIFY|subscription/i.test(String(l.msg)) || /REGISTER|SUBSCRIBE|NOTIFY/.test(String(l.method)))
        .slice(-60)
        .map((l) => JSON.stringify(l))
        .join('\n');
    try {
      await s.waitForLog((l) => l.msg === 'REGISTER accepted from a trusted MWI source (no binding kept)', 40000);
      await s.waitForLog((l) => l.msg === 'MWI subscription created' && l.line === DEMO, 40000);
      await s.waitForLog((l) => l.msg === 'NOTIFY answered' && l.status === 200, 40000);
    } catch (err) {
      throw new Error(`${(err as Error).message.split('\n')[0]}\nserver SIP trail:\n${sipTrail()}\nbaresip output:\n${out.slice(-4000)}`);
    }

    const deposit = await runSipp({ target: `127.0.0.1:${s.sipPort}`, scenario: 'deposit-pcma.xml', service: DEMO, timeoutMs: 90000 });
    if (deposit.code !== 0) throw new Error(`deposit: ${describeSipp(deposit)}`);
    try {
      await until('baresip reports MWI 1/0', () => notifies.some((n) => /Messages-Waiting: yes/.test(n) && /Voice-Message: 1\/0/.test(n)), 20000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; events: ${JSON.stringify(notifies)}; baresip output:\n${out.slice(-3000)}`);
    }
    expect(notifies.at(-1)).toMatch(/Message-Account: sip:\+33912345678@/);
  }, 150_000);
});
