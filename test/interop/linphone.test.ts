/**
 * Interoperability with linphone (Debian `linphone-cli`, binary `linphonec`) against a real `repondeur serve`:
 *
 * - a 60 s message: linphone hangs up when it receives no RTP for `nortp_timeout` (30 s by default), so this only
 *   passes when the server keeps sending (G.711 silence) while it records; the stored message is ~60 s of the tone
 *   linphone played from a WAV file;
 * - the dial-in number: linphone types the line number + `#` and the PIN + `#` as RFC 4733 events and is logged in.
 *
 * linphonec is driven through its stdin; its configuration, HOME and files live in a temp dir; it is killed on every
 * path. See ../shared/NOTES.md: `[rtp] bind_address=127.0.0.1`; the SIP port is set with `ports sip N` at run time
 * (linphonec 5.1 leaves UDP closed with `sip_port` from a hand-written rc).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromptCatalog } from '../../src/ivr/prompts/catalog.js';
import { decodeWav } from '../../src/shared/audio/wav.js';
import { openStore, type Store } from '../../src/store/index.js';
import { findTone } from '../helpers/prompt-match.js';
import { sippPorts } from '../helpers/ports.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const DEMO = '+33912345678';
const DIAL_IN = '0033979947994';
const MESSAGE_MS = 60_000;

let server: ServerProcess;
let store: Store;
const phones: Linphone[] = [];

beforeAll(async () => {
  if (!existsSync('/usr/bin/linphonec')) throw new Error('linphonec is not installed: apt-get install -y linphone-cli');
  server = await startServerProcess();
  store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
}, 40_000);

afterAll(async () => {
  for (const p of phones) p.kill();
  await store?.close();
  await server?.stop();
});

/** One linphonec process in its own temp dir, fed commands on stdin; its output is kept for assertions. */
class Linphone {
  readonly dir = mkdtempSync(join(tmpdir(), 'linphone-'));
  readonly tone = join(this.dir, 'tone.wav');
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  output = '';

  constructor() {
    const { sip, media } = sippPorts();
    // 90 s of 440 Hz at half scale: longer than greeting + message, so the tone covers the whole recording.
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', this.tone, 'synth', '90', 'sine', '440', 'vol', '0.5']);
    const rc = join(this.dir, 'linphonerc');
    writeFileSync(
      rc,
      [
        '[sip]',
        'sip_tcp_port=-1',
        'sip_tls_port=-1',
        'use_rfc2833=1',
        'use_info=0',
        'primary_contact="Test" <sip:0611223344@127.0.0.1>',
        '[rtp]',
        'bind_address=127.0.0.1',
        `audio_rtp_port=${media}`,
        'nortp_timeout=30',
        '[sound]',
        'echocancellation=0',
        '',
      ].join('\n'),
    );
    this.#child = spawn('linphonec', ['-c', rc], { cwd: this.dir, env: { PATH: process.env.PATH ?? '', HOME: this.dir }, stdio: ['pipe', 'pipe', 'pipe'] });
    const take = (d: Buffer): void => {
      this.output += d.toString();
      for (const w of this.#waiters) w();
    };
    this.#child.stdout!.on('data', take);
    this.#child.stderr!.on('data', take);
    this.#child.on('error', (err) => take(Buffer.from(`\nspawn error: ${err.message}\n`)));
    this.send(`ports sip ${sip}`, 'soundcard use files', `play ${this.tone}`);
  }

  send(...commands: string[]): void {
    for (const c of commands) this.#child.stdin!.write(`${c}\n`);
  }

  /** Resolves when linphonec's output matches `re` (after `from`, a position in the output). */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!re.test(this.output.slice(from))) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`linphonec: no ${re} within ${timeoutMs} ms; its output:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function startPhone(): Linphone {
  const phone = new Linphone();
  phones.push(phone);
  return phone;
}

// The two calls are independent (one deposit, one dial-in login, each phone on ports of its own) and run at the same
// time; each test follows its own call's log lines by Call-ID, read from the first line its call logged.
describe('linphone', () => {
  test.concurrent('leaves a 60 s message: the call outlives its 30 s RTP timeout, the message is 60 s of its tone', async () => {
    const phone = startPhone();
    try {
      await phone.waitFor(/Using wav files/, 10_000);
      const before = (await store.messages.list({ line: DEMO })).length;
      phone.send(`call sip:0912345678@127.0.0.1:${server.sipPort}`);
      await phone.waitFor(/connected/, 15_000);
      const { callId } = await server.waitForLog((l) => l.msg === 'deposit: greeting', 10_000);
      await server.waitForLog((l) => l.msg === 'recording started' && l.callId === callId, 60_000);
      // The message's own length: what the test is about, not a wait for readiness.
      await new Promise((r) => setTimeout(r, MESSAGE_MS));
      // linphone must still be in the call after 60 s of recording (with no RTP from us it leaves at 30 s).
      expect(phone.output).not.toMatch(/Call \d+ with .* ended/);
      const mark = phone.output.length;
      phone.send('terminate');
      await phone.waitFor(/ended/, 10_000, mark);
      const log = await server.waitForLog((l) => l.msg === 'deposit: message stored' && l.callId === callId, 15_000);
      const messages = await store.messages.list({ line: DEMO });
      expect(messages.length).toBe(before + 1);
      const stored = decodeWav(await store.messages.getAudio(String(log.messageId))).samples;
      const durationMs = (stored.length * 1000) / 8000;
      expect(durationMs).toBeGreaterThan(MESSAGE_MS - 2000);
      expect(durationMs).toBeLessThan(MESSAGE_MS + 3000);
      const toneMs = findTone(stored, 440, { minDurationMs: 1000 }).reduce((a, t) => a + t.durationMs, 0);
      expect(toneMs).toBeGreaterThan(MESSAGE_MS - 3000);
    } finally {
      phone.kill();
    }
  }, 150_000);

  test.concurrent('dial-in with RFC 4733: line number + #, PIN + #, logged in, then the menu is spoken', async () => {
    const phone = startPhone();
    try {
      await phone.waitFor(/Using wav files/, 10_000);
      phone.send(`call sip:${DIAL_IN}@127.0.0.1:${server.sipPort}`);
      await phone.waitFor(/connected/, 15_000);
      const sayingTo = (callId: unknown, id: string) => (l: Record<string, unknown>) =>
        l.callId === callId && l.msg === 'dial-in: saying' && Array.isArray(l.prompts) && l.prompts.includes(id);
      // The first line of a dial-in call asking for a mailbox: this phone's (the deposit beside it never asks).
      const { callId } = await server.waitForLog((l) => l.msg === 'dial-in: saying' && Array.isArray(l.prompts) && l.prompts.includes('enter_mailbox'), 15_000);
      const said = (id: string) => sayingTo(callId, id);
      phone.send('0912345678#');
      // linphone sends the queued digits one after the other (about one a second): wait for the '#'.
      await server.waitForLog((l) => l.callId === callId && l.msg === 'DTMF' && l.digit === '#' && l.source === 'rfc4733', 30_000);
      await server.waitForLog(said('enter_pin'), 15_000);
      phone.send('1234#');
      const accepted = await server.waitForLog((l) => l.callId === callId && l.msg === 'dial-in: PIN accepted', 30_000);
      expect(accepted.line).toBe(DEMO);
      const digits = server.logs.filter((l) => l.callId === callId && l.msg === 'DTMF').map((l) => `${String(l.digit)}/${String(l.source)}`);
      expect(digits).toEqual([...'0912345678#1234#'].map((d) => `${d}/rfc4733`));
      // After the login the main menu is announced.
      await server.waitForLog((l) => l.callId === callId && l.msg === 'dial-in: saying' && server.logs.indexOf(l) > server.logs.indexOf(accepted), 15_000);
      phone.send('terminate');
      await phone.waitFor(/ended/, 10_000);
    } finally {
      phone.kill();
    }
  }, 120_000);
});
