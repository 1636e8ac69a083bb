/**
 * Message-waiting light on a real softphone: baresip 1.0 (Debian `baresip-core`) with its `mwi` module. That module
 * subscribes to message-summary only once a REGISTER succeeded (UA_EVENT_REGISTER_OK) and answers an unsolicited
 * NOTIFY with 481 (no subscription): so répondeur lists 127.0.0.1 in `mwi.trustedSources`, answers its REGISTER
 * 200 (no binding kept) and serves its SUBSCRIBE. baresip reports each NOTIFY body as a MWI_NOTIFY event on its
 * ctrl_tcp socket (netstring JSON): 0/0 at once, 1/0 after SIPp leaves a message on the line.
 *
 * The account is created with the `uanew` command over ctrl_tcp, never from an `accounts` file. baresip 1.0's mwi
 * module starts a 1 ms timer when it loads whose handler walks the module's list of subscriptions and subscribes
 * again for each, appending to the list it walks: an endless loop of new SUBSCRIBEs (a new Call-ID each) in which
 * baresip answers no NOTIFY and handles no SIGTERM. The list is empty — harmless — unless a REGISTER_OK came first,
 * and with an `accounts` file baresip sends its REGISTER before its main loop first runs, so when a loaded machine
 * holds baresip off the CPU for a millisecond after that send, our 200 is read before the timer fires and the loop
 * starts (seen in CI under stress-ng; made certain below by slowing baresip's sends with strace). `uanew` is handled
 * inside the main loop, after the timer is due, so the REGISTER_OK can only come after the timer has run.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
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

/** A baresip process with its ctrl_tcp connection: its events, its output, and the way to stop it. */
interface Baresip {
  readonly events: Array<Record<string, unknown>>;
  output(): string;
  command(command: string, params: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts baresip (under `strace` delaying each of its sends by `slowSendsUs` µs when given: the descheduling a
 * loaded machine inflicts, made certain) and creates its account with `uanew` once its main loop runs.
 */
async function startBaresip(sipPort: number, opts: { slowSendsUs?: number } = {}): Promise<Baresip> {
  if (!existsSync('/usr/bin/baresip')) throw new Error('baresip is not installed: apt-get install -y baresip-core');
  if (opts.slowSendsUs !== undefined && !existsSync('/usr/bin/strace')) throw new Error('strace is not installed: apt-get install -y strace');
  const dir = mkdtempSync(join(tmpdir(), 'baresip-mwi-'));
  const ctrlPort = await freeTcpPort();
  mkdirSync(join(dir, 'conf'));
  writeFileSync(
    join(dir, 'conf', 'config'),
    ['sip_listen 127.0.0.1:0', `module_path ${MODULES}`, 'module g711.so', 'module_app menu.so', 'module_app mwi.so', 'module_app ctrl_tcp.so', `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`, ''].join('\n'),
  );
  writeFileSync(join(dir, 'conf', 'accounts'), '');
  const argv = ['-f', join(dir, 'conf')];
  const child: ChildProcess =
    opts.slowSendsUs === undefined
      ? spawn('baresip', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('strace', ['-f', '-o', '/dev/null', '-e', 'trace=sendto,sendmsg', '-e', `inject=sendto,sendmsg:delay_exit=${opts.slowSendsUs}`, 'baresip', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let ctrl: Socket | undefined;
  const stop = async (): Promise<void> => {
    ctrl?.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    // baresip stuck in a loop handles no SIGTERM (libre only reads signals in its main loop): SIGKILL after 3 s.
    // Under strace the one to stop is strace's child, which would outlive strace.
    const pids = opts.slowSendsUs === undefined ? [child.pid!] : [...childPids(child.pid!), child.pid!];
    for (const pid of pids) kill(pid, 'SIGTERM');
    const force = setTimeout(() => pids.forEach((pid) => kill(pid, 'SIGKILL')), 3000);
    await exited;
    clearTimeout(force);
  };
  try {
    await until('baresip ready', () => /baresip is ready/.test(out), 20000);
    const readyAt = performance.now();
    const events: Array<Record<string, unknown>> = [];
    const responses: Array<Record<string, unknown>> = [];
    const socket = (ctrl = connect(ctrlPort, '127.0.0.1'));
    await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject));
    readNetstrings(socket, (m) => (m.response === true ? responses.push(m) : events.push(m)));
    let token = 0;
    const command = async (cmd: string, params: string): Promise<Record<string, unknown>> => {
      const t = `t${++token}`;
      const json = JSON.stringify({ command: cmd, params, token: t });
      socket.write(`${Buffer.byteLength(json)}:${json},`);
      await until(`baresip's answer to ${cmd}`, () => responses.some((r) => r.token === t), 20000);
      return responses.find((r) => r.token === t)!;
    };
    // The mwi module's 1 ms start-up timer (see above) was started before "baresip is ready" was printed: it is due
    // by now, so the main loop runs it before it can read the 200 to the REGISTER that `uanew` sends.
    await until('1 ms past baresip start-up', () => performance.now() - readyAt > 1, 1000, 1);
    const created = await command('uanew', `<sip:${DEMO}@127.0.0.1:${sipPort}>;regint=600;mwi=yes`);
    if (created.ok !== true) throw new Error(`uanew failed: ${JSON.stringify(created)}`);
    return { events, output: () => out, command, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nbaresip output:\n${out.slice(-3000)}`);
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** What the server saw of baresip: REGISTER transactions, SUBSCRIBE dialogs (Call-IDs) and NOTIFYs answered 200. */
function sipCounts(s: ServerProcess): { registers: number; subscribeDialogs: number; notifiesAnswered: number } {
  const created = s.logs.filter((l) => l.msg === 'server transaction created');
  return {
    registers: created.filter((l) => l.method === 'REGISTER').length,
    subscribeDialogs: new Set(created.filter((l) => l.method === 'SUBSCRIBE').map((l) => l.callId)).size,
    notifiesAnswered: s.logs.filter((l) => l.msg === 'NOTIFY answered' && l.status === 200).length,
  };
}

/** The server's SIP trail for a failure message: the counts (a truncated trail hid a subscribe loop once), then lines. */
function sipTrail(s: ServerProcess): string {
  const lines = s.logs.filter((l) => /REGISTER|SUBSCRIBE|NOTIFY|subscription/i.test(String(l.msg)) || /REGISTER|SUBSCRIBE|NOTIFY/.test(String(l.method)));
  const shown = lines.length > 60 ? [...lines.slice(0, 20), { skipped: lines.length - 60 }, ...lines.slice(-40)] : lines;
  return `${JSON.stringify(sipCounts(s))}\n${shown.map((l) => JSON.stringify(l)).join('\n')}`;
}

/** Waits until the first NOTIFY is answered 200 — or baresip opened a second subscription, as in its subscribe loop. */
async function subscribedOnce(s: ServerProcess, b: Baresip): Promise<void> {
  try {
    await until('a NOTIFY answered 200 (or a second SUBSCRIBE dialog)', () => {
      const c = sipCounts(s);
      return c.notifiesAnswered > 0 || c.subscribeDialogs > 1;
    }, 40000);
    // A command answered proves baresip's main loop still runs (no loop of SUBSCRIBEs holds it).
    await b.command('reginfo', '');
    expect(sipCounts(s)).toMatchObject({ registers: 1, subscribeDialogs: 1 });
    expect(sipCounts(s).notifiesAnswered).toBeGreaterThan(0);
  } catch (err) {
    throw new Error(`${(err as Error).message.split('\n').slice(0, 12).join('\n')}\nserver SIP trail:\n${sipTrail(s)}\nbaresip output:\n${b.output().slice(-3000)}`);
  }
}

describe('baresip MWI', () => {
  let server: ServerProcess | undefined;
  let baresip: Baresip | undefined;
  beforeEach(async () => {
    server = await startServerProcess({ REPONDEUR_MWI_TRUSTED_SOURCES: '127.0.0.1' });
  });
  afterEach(async () => {
    try {
      await baresip?.stop();
    } finally {
      baresip = undefined;
      await server?.stop();
    }
  }, 30_000);

  test('baresip registers once, subscribes once and shows the counts: 0/0, then 1/0 after a deposit', async () => {
    const s = server!;
    const b = (baresip = await startBaresip(s.sipPort));
    await subscribedOnce(s, b);
    const notifies = (): string[] => b.events.filter((e) => e.type === 'MWI_NOTIFY').map((e) => String(e.param ?? ''));

    const deposit = await runSipp({ target: `127.0.0.1:${s.sipPort}`, scenario: 'deposit-pcma.xml', service: DEMO, timeoutMs: 90000 });
    if (deposit.code !== 0) throw new Error(`deposit: ${describeSipp(deposit)}`);
    try {
      await until('baresip reports MWI 1/0', () => notifies().some((n) => /Messages-Waiting: yes/.test(n) && /Voice-Message: 1\/0/.test(n)), 20000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; events: ${JSON.stringify(notifies())}\nserver SIP trail:\n${sipTrail(s)}\nbaresip output:\n${b.output().slice(-3000)}`);
    }
    expect(notifies()[0]).toMatch(/Voice-Message: 0\/0/);
    expect(notifies().at(-1)).toMatch(/Message-Account: sip:\+33912345678@/);
    // Over the whole test (registration, deposit, NOTIFY): still the one REGISTER and the one subscription.
    expect(sipCounts(s)).toMatchObject({ registers: 1, subscribeDialogs: 1 });
  }, 150_000);

  test('a baresip slowed down at every send (as on a loaded machine) still registers once and subscribes once', async () => {
    const s = server!;
    // 30 ms after each send: with the REGISTER sent from an accounts file, this makes the subscribe loop certain.
    const b = (baresip = await startBaresip(s.sipPort, { slowSendsUs: 30_000 }));
    await subscribedOnce(s, b);
    expect(b.events.some((e) => e.type === 'REGISTER_OK')).toBe(true);
  }, 90_000);
});
