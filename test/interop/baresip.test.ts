/**
 * Interoperability with a real softphone: baresip (Debian `baresip-core`) calls a real `repondeur serve`, hears the
 * greeting and the beep, speaks (a 440 Hz tone from a file) and hangs up; the message is stored with that audio.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { decodeWav } from '../../src/shared/audio/wav.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { findTone } from '../helpers/prompt-match.js';

const MODULES = '/usr/lib/baresip/modules';
let server: ServerProcess;
let store: Store;

beforeAll(async () => {
  server = await startServerProcess();
  store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
});

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

/** baresip's configuration: G.711 only, audio from a WAV file, what it hears into another WAV. */
function baresipConfig(dir: string, source: string, heard: string): void {
  mkdirp(join(dir, 'conf'));
  writeFileSync(
    join(dir, 'conf', 'config'),
    [
      'sip_listen 127.0.0.1:0',
      `audio_player aufile,${heard}`,
      `audio_source aufile,${source}`,
      'audio_alert aufile,/dev/null',
      `module_path ${MODULES}`,
      `snd_path ${dir}`,
      ...['stdio', 'g711', 'aufile', 'sndfile', 'account', 'contact', 'menu', 'uuid'].map((m) => `module ${m}.so`),
      ...['account', 'contact', 'menu'].map((m) => `module_app ${m}.so`),
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'conf', 'accounts'), '<sip:0611223344@127.0.0.1>;regint=0\n');
}

function mkdirp(dir: string): void {
  execFileSync('mkdir', ['-p', dir]);
}

describe('baresip', () => {
  test('a softphone leaves a message: greeting and beep heard, its audio stored', async () => {
    if (!existsSync('/usr/bin/baresip')) throw new Error('baresip is not installed: apt-get install -y baresip-core');
    const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    const source = join(dir, 'speech.wav');
    const heard = join(dir, 'heard.wav');
    // 13 s of silence while the greeting plays, 4 s of a 440 Hz tone, 3 s of silence; baresip hangs up at the end.
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', source, 'synth', '4', 'sine', '440', 'vol', '0.5', 'pad', '13', '3']);
    baresipConfig(dir, source, heard);
    const before = (await store.messages.list({ line: '+33912345678' })).length;
    await new Promise<void>((resolve, reject) => {
      const child = spawn('baresip', ['-f', join(dir, 'conf'), '-e', `/dial sip:0912345678@127.0.0.1:${server.sipPort}`, '-t', '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', () => (/Call established/.test(out) ? resolve() : reject(new Error(`baresip did not establish the call:\n${out.slice(-2000)}`))));
    });
    const log = await server.waitForLog((l) => l.msg === 'deposit: message stored', 15000);
    const messages = await store.messages.list({ line: '+33912345678' });
    expect(messages.length).toBe(before + 1);
    expect(messages.find((m) => m.id === log.messageId)!.caller).toBe('+33611223344');

    // What baresip decoded from us (its sndfile module dumps it): the greeting, then our 1 kHz beep.
    const dump = readdirSync(dir).find((f) => /dec\.wav$/.test(f));
    if (!dump) throw new Error(`baresip wrote no decoded-audio dump in ${dir}: ${readdirSync(dir).join(', ')}`);
    const heardPcm = decodeWav(readFileSync(join(dir, dump))).samples;
    expect(findTone(heardPcm, 1000, { minDurationMs: 200 }).length).toBeGreaterThanOrEqual(1);
    // What we stored: the 4 s tone baresip sent after the beep.
    const stored = decodeWav(await store.messages.getAudio(String(log.messageId))).samples;
    const tone = findTone(stored, 440, { minDurationMs: 1000 });
    const toneMs = tone.reduce((a, t) => a + t.durationMs, 0);
    expect(toneMs).toBeGreaterThan(3500);
    expect(toneMs).toBeLessThanOrEqual(4100);
  }, 90_000);
});
