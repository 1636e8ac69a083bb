/**
 * Runs SIPp (Debian sip-tester) against a server and reports how the calls went.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server-process.js';
import { sippPorts } from './ports.js';

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Contents of the *_errors.log file (minus the harmless epoll line). */
  errors: string;
  /** Contents of the *_logs.log file (from <log> actions). */
  logs: string;
  /** Contents of the *_messages.log file: every SIP message sent and received (always traced). */
  messages: string;
  /** Successful / failed call counts from the -trace_stat CSV's last line. */
  successful: number;
  failed: number;
  dir: string;
  /** The Call-IDs of the calls SIPp placed (`[call_id]` = `<call number>-<pid>@<ip>`), in order, read from the message trace. */
  callIds: string[];
}

/** The distinct Call-ID header values in a SIPp message trace (RFC 3261 §7.3.3: `i` is its compact form), in order. */
function callIdsIn(messages: string): string[] {
  const ids = new Set<string>();
  for (const m of messages.matchAll(/^(?:Call-ID|i)\s*:\s*(\S+)\s*$/gim)) ids.add(m[1]!);
  return [...ids];
}

/** The Call-ID of a one-call SIPp run; throws if the run placed no call or several. */
export function callIdOf(r: SippResult): string {
  if (r.callIds.length !== 1) throw new Error(`expected one Call-ID in the SIPp trace, found ${r.callIds.length}: ${r.callIds.join(', ')}\n${describeSipp(r)}`);
  return r.callIds[0]!;
}

export interface SippOptions {
  scenario: string;
  target: string;
  service?: string;
  transport?: 'u1' | 'un' | 't1' | 'tn';
  calls?: number;
  concurrency?: number;
  rate?: number;
  localPort?: number;
  mediaPort?: number;
  /** Local address SIPp binds (default 127.0.0.1; any 127.0.0.0/8 address is local). */
  localIp?: string;
  extra?: string[];
  timeoutMs?: number;
  /** Files (e.g. pcaps) to copy into the working directory under the given name. */
  files?: Record<string, string>;
  /** Aborting kills SIPp (SIGTERM): for a test that runs SIPp in the background and may fail before it ends. */
  signal?: AbortSignal;
}

export function scenarioPath(name: string): string {
  return join(ROOT, 'sipp-scenarios', name);
}

export async function runSipp(o: SippOptions): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  for (const [name, src] of Object.entries(o.files ?? {})) copyFileSync(src, join(dir, name));
  const auto = sippPorts();
  const localPort = o.localPort ?? auto.sip;
  const args = [
    o.target,
    '-sf', scenarioPath(o.scenario),
    '-s', o.service ?? '+33912345678',
    '-t', o.transport ?? 'u1',
    '-p', String(localPort),
    '-mp', String(o.mediaPort ?? auto.media),
    '-i', o.localIp ?? '127.0.0.1',
    '-m', String(o.calls ?? 1),
    '-l', String(o.concurrency ?? 1),
    '-r', String(o.rate ?? 10),
    '-timeout', `${Math.ceil((o.timeoutMs ?? 60000) / 1000)}s`,
    '-timeout_error',
    '-trace_err',
    '-trace_logs',
    '-trace_stat',
    '-trace_msg',
    '-stf', join(dir, 'stat.csv'),
    '-nostdin',
    ...(o.extra ?? []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(o.signal ? { signal: o.signal } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      if ((err as Error).name !== 'AbortError') reject(err);
    });
    child.on('exit', (code) => {
      const files = readdirSync(dir);
      const read = (suffix: string): string =>
        files.filter((f) => f.endsWith(suffix)).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      const errors = read('_errors.log')
        .split('\n')
        .filter((l) => l.trim() && !/Failed to delete FD from epoll/.test(l))
        .join('\n');
      let successful = 0;
      let failed = 0;
      const statFile = join(dir, 'stat.csv');
      if (existsSync(statFile)) {
        const lines = readFileSync(statFile, 'utf8').trim().split('\n');
        const header = lines[0]!.split(';');
        const last = lines[lines.length - 1]!.split(';');
        successful = Number(last[header.indexOf('SuccessfulCall(C)')] ?? 0);
        failed = Number(last[header.indexOf('FailedCall(C)')] ?? 0);
      }
      const messages = read('_messages.log');
      resolve({ code, stdout, stderr, errors, logs: read('_logs.log'), messages, successful, failed, dir, callIds: callIdsIn(messages) });
    });
  });
}

/** A readable failure message for expect(): what SIPp said went wrong. */
export function describeSipp(r: SippResult): string {
  return `sipp exit ${r.code}, ${r.successful} ok / ${r.failed} failed\nerrors:\n${r.errors.slice(0, 4000)}\nstderr:\n${r.stderr.slice(0, 2000)}`;
}
