import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { lineNumbers } from '../helpers/test-database.js';

export { ENGINES, PG_URL, TestDatabase, toneWav, type Engine } from '../helpers/test-database.js';

/** A fresh E.164 line number per call. */
export const freshLine = lineNumbers('+3397');

/** Duration in seconds of an audio file as ffmpeg decodes it (independent of our own decoders). */
export function ffmpegDurationSeconds(data: Buffer, extension: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'repondeur-audio-'));
  try {
    const file = join(dir, `in.${extension}`);
    writeFileSync(file, data);
    const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', '8000', '-'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return pcm.length / 2 / 8000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TCP port nothing listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ParsedMail {
  raw: string;
  headers: Map<string, string>;
  text: string;
  attachments: { filename: string; contentType: string; data: Buffer }[];
}

export interface ReceivedMail extends ParsedMail {
  envelopeFrom: string;
  envelopeTo: string[];
}

/** How the test SMTP server treats the next mails. */
export type SmtpMode = 'accept' | 'tempfail' | 'stall';

/**
 * A real SMTP server (smtp-server, in-process, loopback). A mail counts as received only once the server answers
 * 250 to its DATA. `rejectPermanently` lists recipients refused with 550 at RCPT.
 */
export class TestSmtpServer {
  mode: SmtpMode = 'accept';
  readonly received: ReceivedMail[] = [];
  readonly rejectPermanently = new Set<string>();
  #server: SMTPServer | undefined;
  #stalled: (() => void)[] = [];
  #stallWaiters: (() => void)[] = [];

  constructor(readonly port: number) {}

  async listen(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 100,
      onRcptTo: (address, _session, callback) => {
        if (this.mode === 'tempfail') return callback(Object.assign(new Error('4.3.2 try again later'), { responseCode: 451 }));
        if (this.rejectPermanently.has(address.address)) {
          return callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const accept = () => {
            this.received.push({
              ...parseMail(Buffer.concat(chunks)),
              envelopeFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            });
            callback();
          };
          if (this.mode !== 'stall') return accept();
          // Never answers: the client waits in the DATA phase until it gives up or is stopped.
          this.#stalled.push(() => callback(new Error('stalled')));
          for (const w of this.#stallWaiters.splice(0)) w();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Resolves once a mail is held in the DATA phase. */
  whenStalled(): Promise<void> {
    if (this.#stalled.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#stallWaiters.push(resolve));
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const release of this.#stalled.splice(0)) release();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Mails received per Message-ID. */
  countByMessageId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.received) {
      const id = m.headers.get('message-id') ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

function decodeQuotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const s = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, decodeWords(line.slice(colon + 1).trim()));
  }
  return headers;
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const sep = raw.slice(at).match(/^\r?\n\r?\n/)![0].length;
  return { headers: parseHeaders(raw.slice(0, at)), body: raw.slice(at + sep) };
}

function decodeBody(headers: Map<string, string>, body: string): Buffer {
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return Buffer.from(body, 'latin1');
}

/** A minimal MIME reader for what nodemailer writes: a text/plain part, optionally in multipart/mixed. */
export function parseMail(rawBytes: Buffer): ParsedMail {
  const raw = rawBytes.toString('latin1');
  const { headers, body } = splitEntity(raw);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const mail: ParsedMail = { raw, headers, text: '', attachments: [] };
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  const parts = boundary === undefined ? [{ headers, body }] : body.split(`--${boundary}`).slice(1, -1).map((p) => splitEntity(p.replace(/^\r?\n/, '')));
  for (const part of parts) {
    const type = part.headers.get('content-type') ?? 'text/plain';
    const data = decodeBody(part.headers, part.body.replace(/\r?\n$/, ''));
    const filename = /filename="?([^";]+)"?/i.exec(part.headers.get('content-disposition') ?? '')?.[1];
    if (filename !== undefined) mail.attachments.push({ filename, contentType: type.split(';')[0]!.trim(), data });
    else if (type.startsWith('text/plain')) mail.text = data.toString('utf8');
  }
  return mail;
}

