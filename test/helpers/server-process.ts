/**
 * Runs a real `repondeur serve` process (the built dist/) for integration tests, with its own temp storage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rtpBlock } from './ports.js';

export const ROOT = resolve(__dirname, '..', '..');

export interface ServerProcess {
  readonly sipPort: number;
  readonly apiPort: number;
  readonly dir: string;
  readonly env: Record<string, string>;
  /** Every JSON log line the server printed so far. */
  readonly logs: Array<Record<string, unknown>>;
  readonly child: ChildProcess;
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export { WORKER, rtpBlock } from './ports.js';

/** Every server process still running: killed when the test process exits, whatever the path that got there. */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of LIVE) c.kill('SIGKILL');
});

/**
 * `REPONDEUR_MEDIA_WORKERS` set for the test run (e.g. `REPONDEUR_MEDIA_WORKERS=2 npx jest …`) is passed to every
 * server the tests start, so any suite can be run with media in worker threads; a test's own `env` still wins.
 */
function inheritedEnv(): Record<string, string> {
  const workers = process.env.REPONDEUR_MEDIA_WORKERS;
  return workers === undefined ? {} : { REPONDEUR_MEDIA_WORKERS: workers };
}

export async function startServerProcess(env: Record<string, string> = {}, opts: { dir?: string } = {}): Promise<ServerProcess> {
  const ports = rtpBlock();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'repondeur-test-'));
  const fullEnv: Record<string, string> = {
    REPONDEUR_SIP_PORT: '0',
    REPONDEUR_RTP_PORT_MIN: String(ports.rtpMin),
    REPONDEUR_RTP_PORT_MAX: String(ports.rtpMax),
    REPONDEUR_API_PORT: '0',
    REPONDEUR_STORAGE_DIR: dir,
    REPONDEUR_DATABASE_URL: `sqlite:${join(dir, 'repondeur.db')}`,
    REPONDEUR_LOG_LEVEL: 'debug',
    ...inheritedEnv(),
    ...env,
  };
  const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'bin', 'repondeur.js'), 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));

  const waitForLog: ServerProcess['waitForLog'] = (pred, timeoutMs = 15000) =>
    new Promise((res, rej) => {
      const check = (): boolean => {
        const hit = logs.find(pred);
        if (hit) {
          waiters.delete(check);
          clearTimeout(timer);
          res(hit);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`server log line not seen within ${timeoutMs} ms; stderr:\n${stderr}\nlast logs:\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
      void exited.then(() => {
        if (waiters.has(check)) {
          waiters.delete(check);
          clearTimeout(timer);
          rej(new Error(`server exited; stderr:\n${stderr}\nlast logs:\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`));
        }
      });
    });

  // The readiness signal: a loaded machine may take long to start a server, and a server that dies is seen at once
  // (waitForLog rejects on exit), so the bound is generous. On any failure the process is killed, never left behind.
  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((l) => l.msg === 'repondeur listening', 120000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const sipPort = Number(/:(\d+)$/.exec(String(listening.sip))?.[1]);
  const apiPort = Number(/:(\d+)\/?$/.exec(String(listening.api ?? ''))?.[1] ?? 0);
  if (!sipPort) throw new Error(`cannot read the SIP port from ${JSON.stringify(listening)}`);
  return {
    sipPort,
    apiPort,
    dir,
    env: fullEnv,
    logs,
    child,
    waitForLog,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
