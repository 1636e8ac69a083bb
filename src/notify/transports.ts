import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { SendMailOptions, Transporter } from 'nodemailer';

/** What a transport reports once the mail is out of our hands. */
export interface MailDelivery {
  /** The Message-ID header of the mail. */
  messageId: string;
  /** The SMTP server's final reply, or where the file was written. */
  response: string;
}

/**
 * Where notification e-mails go. `send` resolves once the mail is accepted (SMTP 250 after DATA) or written,
 * and rejects otherwise; aborting `signal` cancels the send and closes its connection.
 */
export interface MailTransport {
  readonly description: string;
  send(mail: SendMailOptions, signal: AbortSignal): Promise<MailDelivery>;
  /**
   * Rejects unless the relay answers now (connect, greeting, EHLO, authentication, QUIT): used while mail waits for
   * an unreachable relay. Absent when there is no relay to wait for.
   */
  probe?(signal: AbortSignal): Promise<void>;
  close(): void;
}

/** Timeouts of one SMTP session, in ms. */
export interface SmtpTimeouts {
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: Readonly<SmtpTimeouts> = {
  connectionTimeoutMs: 30_000,
  greetingTimeoutMs: 30_000,
  socketTimeoutMs: 60_000,
};

/** A configuration the transport cannot work with (bad URL). */
export class MailTransportConfigError extends Error {
  override readonly name = 'MailTransportConfigError';
}

/** Checks an `smtp.url` (`smtp://[user:pass@]host[:port]` or `smtps://…`), throwing a precise error otherwise. */
export function parseSmtpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MailTransportConfigError(`smtp.url "${url}" is not a URL (expected smtp://host:port or smtps://host:port)`);
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new MailTransportConfigError(`smtp.url must start with smtp:// or smtps:// (got "${parsed.protocol}//")`);
  }
  if (parsed.hostname === '') throw new MailTransportConfigError('smtp.url names no host');
  return parsed;
}

/** Sends through an SMTP relay, one connection per mail (notifications are few; nothing to keep open). */
export class SmtpMailTransport implements MailTransport {
  readonly description: string;
  readonly #transporter: Transporter;

  constructor(url: string, timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS) {
    const parsed = parseSmtpUrl(url);
    this.description = `smtp ${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`;
    this.#transporter = nodemailer.createTransport({
      url,
      connectionTimeout: timeouts.connectionTimeoutMs,
      greetingTimeout: timeouts.greetingTimeoutMs,
      socketTimeout: timeouts.socketTimeoutMs,
    });
  }

  async send(mail: SendMailOptions, signal: AbortSignal): Promise<MailDelivery> {
    const info = await this.#transporter.sendMail({ ...mail, signal });
    return { messageId: String(info.messageId), response: String(info.response ?? '') };
  }

  async probe(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
    aborted.catch(() => undefined);
    await Promise.race([this.#transporter.verify(), aborted]);
  }

  close(): void {
    this.#transporter.close();
  }
}

/**
 * The embedded default when no SMTP relay is configured: each mail is written as an RFC 5322 `.eml` file named
 * after its job into `dir`, so a developer sees what would have been sent. Writing is atomic (temp file, rename)
 * and idempotent (the same job rewrites the same file).
 */
export class EmlFileTransport implements MailTransport {
  readonly description: string;
  readonly #dir: string;
  readonly #transporter: Transporter;

  constructor(dir: string) {
    this.#dir = dir;
    this.description = `eml files in ${dir}`;
    this.#transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  }

  async send(mail: SendMailOptions, signal: AbortSignal): Promise<MailDelivery> {
    signal.throwIfAborted();
    const info = await this.#transporter.sendMail(mail);
    const messageId = String(info.messageId);
    const name = `${fileStem(messageId)}.eml`;
    await mkdir(this.#dir, { recursive: true });
    const target = join(this.#dir, name);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, info.message as Buffer);
    await rename(temporary, target);
    return { messageId, response: `written to ${target}` };
  }

  close(): void {
    this.#transporter.close();
  }
}

/** `<3f2…@host>` → `3f2…@host`, keeping only characters safe in a file name. */
function fileStem(messageId: string): string {
  return messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9@._-]/g, '_');
}

/**
 * True when the SMTP server refused this very mail for good — a 5yz reply (RFC 5321 §4.2.1: "the SMTP client
 * SHOULD NOT repeat the exact request") to its envelope or its content. Connection failures, time-outs, 4yz
 * replies, authentication and greeting errors are an outage or a misconfiguration of the relay: retried.
 */
export function isPermanentRejection(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; permanent?: unknown; responseCode?: unknown };
  if (e.code !== 'EENVELOPE' && e.code !== 'EMESSAGE') return false;
  if (typeof e.permanent === 'boolean') return e.permanent;
  return typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503;
}

/**
 * True when the relay answered this very mail (its envelope or content) — a 4yz to RCPT for a full mailbox, say —
 * rather than failing to be reached at all (refused connection, time-out, greeting, TLS or authentication error).
 * Only the latter is an outage whose end should send every waiting mail at once.
 */
export function isReplyToThisMail(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === 'EENVELOPE' || code === 'EMESSAGE';
}

/** One line describing a send failure, as stored in the job's `lastError`. */
export function describeSendError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: string; responseCode?: number; command?: string };
  const parts = [e.code, e.command && `during ${e.command}`, e.responseCode && `reply ${e.responseCode}`].filter(Boolean);
  const message = e.message.replace(/\s+/g, ' ').trim().slice(0, 500);
  return parts.length > 0 ? `${message} (${parts.join(', ')})` : message;
}
