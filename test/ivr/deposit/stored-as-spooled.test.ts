/**
 * One deposit pipeline (issue 15, item 2): the audio is not decoded and re-encoded between the recorder, the spool,
 * the store and the mailer. What the store keeps is the spool WAV as the recorder wrote it, i.e. exactly the WAV
 * built from the RTP payloads received (decoded here by an independent G.711 library), and a mailbox taking WAV
 * attachments gets that very file by e-mail.
 *
 * Recorder: real spool file on disk. Deposit: real `repondeur serve` process, real SIP and RTP from the test UA, mail
 * written as .eml (no SMTP relay configured).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpRecorder } from '../../../src/media/recorder.js';
import { wavHeader } from '../../../src/shared/audio/wav.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { decodeG711 } from '../../helpers/rtp-peer.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { TestUa, type TestCall } from '../../helpers/test-ua.js';
import { until } from '../../helpers/wait.js';
import { parseMail } from '../../notify/harness.js';
import { findExactly } from './audio.js';

const RATE = 8000;
const LINE = '+33912000041';

/** Deterministic speech-like audio, loud enough to count as voice. */
function speech(samples: number, seed: number): Int16Array {
  let state = seed;
  const rand = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return Int16Array.from({ length: samples }, (_, i) => {
    const v = 5000 * Math.sin((2 * Math.PI * 330 * i) / RATE) + 1800 * Math.sin((2 * Math.PI * 1510 * i) / RATE) + 1000 * rand();
    return Math.round(v * Math.min(1, i / 400, (samples - 1 - i) / 400));
  });
}

const pcmBytes = (pcm: Int16Array): Buffer => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);

describe('the recorder hands over the spool file as it is', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipeline-rec-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test('finish().wav is the spool file byte for byte, and the WAV of exactly the received payloads', async () => {
    const path = join(dir, 'spool.wav');
    const recorder = await RtpRecorder.create({ path, fsync: false, flushMs: 100 });
    const audio = speech(RATE, 3);
    const payloads: Uint8Array[] = [];
    for (let k = 0; k < 50; k++) {
      const payload = new Uint8Array(160);
      // µ-law bytes straight from a generator: the recorder decodes them once, into the spool.
      for (let i = 0; i < 160; i++) payload[i] = (audio[k * 160 + i]! * 7 + k * 13 + i) & 0xff;
      payloads.push(payload);
      recorder.pushRtp(500 + k, 8000 + k * 160, 0x4242, 0, payload);
    }
    const result = await recorder.finish();
    expect(result.wav.equals(await readFile(path))).toBe(true);
    const expected = decodeG711('PCMU', Buffer.concat(payloads));
    expect(result.wav.equals(Buffer.concat([wavHeader(expected.byteLength), pcmBytes(expected)]))).toBe(true);
  });
});

describe('a deposit is stored and mailed as spooled', () => {
  let server: ServerProcess;
  let store: Store;
  let ua: TestUa | undefined;

  beforeAll(async () => {
    server = await startServerProcess();
    store = await openStore(`sqlite:${join(server.dir, 'repondeur.db')}`);
    await store.lines.create({ number: LINE, routing: 'voicemail', settings: { audioFormat: 'wav', redirectionEmails: [{ email: 'box@example.org', type: 'attachment' }] } });
  }, 40000);

  afterAll(async () => {
    ua?.close();
    await store?.close();
    await server?.stop();
  });

  /** Index of the last packet of the greeting that is not digital silence (the end of the beep). */
  function endOfBeep(c: TestCall): number {
    const packets = c.packets;
    for (let i = packets.length - 1; i >= 0; i--) if (!packets[i]!.payload.every((b) => b === 0xff)) return i;
    return -1;
  }

  test('stored blob = WAV of the RTP payloads sent (silence around it only); the WAV attachment is that blob', async () => {
    ua = await TestUa.create({ server: `127.0.0.1:${server.sipPort}` });
    const result = await ua.invite({ to: LINE, from: '0611223344', codecs: [{ pt: 0, name: 'PCMU' }], telephoneEvent: [101] });
    expect(result.status).toBe(200);
    const c = result.call!;
    let beepEnd = -1;
    await until('the beep and 500 ms of silence after it', () => {
      beepEnd = endOfBeep(c);
      return beepEnd > 0 && c.packets.length - 1 - beepEnd >= 25;
    }, 30000);
    await c.sendAudio(speech(2 * RATE, 11), { codec: 'PCMU' });
    await c.bye();

    const stored = await server.waitForLog((l) => l.msg === 'deposit: message stored');
    const messageId = String(stored.messageId);
    const blob = await store.messages.getAudio(messageId);
    const sent = decodeG711('PCMU', Buffer.concat(c.sent.map((p) => p.payload)));
    const pcm = blob.subarray(44);
    const at = findExactly(new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length)), sent);
    expect(at).toBeGreaterThanOrEqual(0);
    const zeros = (n: number): Buffer => Buffer.alloc(n * 2);
    const built = Buffer.concat([wavHeader(pcm.length), zeros(at), pcmBytes(sent), zeros(pcm.length / 2 - at - sent.length)]);
    expect(blob.equals(built)).toBe(true);

    await server.waitForLog((l) => l.msg === 'notification sent');
    const outbox = join(server.dir, 'outbox');
    const files = (await readdir(outbox)).filter((n) => n.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const mail = parseMail(await readFile(join(outbox, files[0]!)));
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.contentType).toBe('audio/wav');
    expect(mail.attachments[0]!.data.equals(blob)).toBe(true);
  }, 60000);
});
