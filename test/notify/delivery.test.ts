import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AUDIO_FORMATS } from '../../src/store/index.js';
import { ENGINES, ffmpegDurationSeconds, parseMail } from './harness.js';
import { until } from '../helpers/wait.js';
import { NotifyFixture, T0 } from './fixture.js';

const MIME: Record<string, string> = {
  aiff: 'audio/aiff',
  au: 'audio/basic',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
};

describe.each(ENGINES)('notification delivery on %s', (engine) => {
  let f: NotifyFixture;
  beforeAll(async () => {
    f = await NotifyFixture.create(engine);
  });
  afterAll(async () => f.cleanup());

  test('each of the six formats: one mail per recipient, proper headers, attachment of the right duration', async () => {
    const deposits = [];
    for (const audioFormat of AUDIO_FORMATS) {
      const line = await f.line({
        audioFormat,
        redirectionEmails: [
          { email: `full-${audioFormat}@example.org`, type: 'attachment' },
          { email: `text-${audioFormat}@example.org`, type: 'simple' },
        ],
      });
      deposits.push({ audioFormat, line, result: await f.deposit(line, { seconds: 2.5 }) });
    }
    const worker = f.worker();
    expect(await worker.runOnce()).toBe(12);
    expect(f.smtp.received).toHaveLength(12);

    for (const { audioFormat, line, result } of deposits) {
      const jobs = await f.store.outbox.listForMessage(result.message.id);
      expect(jobs.map((j) => j.status)).toEqual(['sent', 'sent']);
      for (const job of jobs) {
        const mail = f.smtp.received.find((m) => m.envelopeTo.includes(job.recipient))!;
        expect(mail).toBeDefined();
        expect(mail.headers.get('to')).toBe(job.recipient);
        expect(mail.envelopeFrom).toBe('voicemail@operator.example');
        expect(mail.headers.get('from')).toBe('Répondeur <voicemail@operator.example>');
        expect(mail.headers.get('message-id')).toBe(`<${job.id}@operator.example>`);
        expect(job.smtpMessageId).toBe(`<${job.id}@operator.example>`);
        expect(new Date(mail.headers.get('date')!).getTime()).toBe(T0);
        expect(mail.headers.get('mime-version')).toBe('1.0');
        expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
        expect(mail.headers.get('subject')).toBe('Nouveau message vocal de 0612345678 (3 s)');
        expect(mail.text).toContain(`Pour\u00a0: 0${line.slice(3)}`);
        expect(mail.text).toContain('vendredi 14 mars 2025 à 09:26');
        if (job.type === 'simple') {
          expect(mail.attachments).toEqual([]);
          expect(mail.headers.get('content-type')).toMatch(/^text\/plain/);
        } else {
          expect(mail.attachments).toHaveLength(1);
          const [att] = mail.attachments;
          expect(att!.contentType).toBe(MIME[audioFormat]);
          expect(att!.filename).toBe(`message-2025-03-14-0926.${audioFormat}`);
          expect(ffmpegDurationSeconds(att!.data, audioFormat)).toBeCloseTo(2.5, 1);
        }
      }
    }
    // Sent jobs are never sent again.
    f.now += 24 * 3600_000;
    expect(await worker.runOnce()).toBe(0);
    expect(f.smtp.received).toHaveLength(12);
    f.now = T0;
  });

  test('sender from the mailbox settings, English templates, withheld caller and caller name', async () => {
    const line = await f.line(
      {
        fromEmail: 'messagerie@client.example',
        fromName: 'Cabinet Dupont',
        redirectionEmails: [{ email: 'boss@client.example', type: 'simple' }],
      },
      'en',
    );
    const anonymous = await f.deposit(line, { caller: 'anonymous', seconds: 65 });
    const named = await f.deposit(line, { caller: '+442071234567', callerName: 'Alice', seconds: 4 });
    f.smtp.received.length = 0;
    expect(await f.worker().runOnce()).toBe(2);
    const byJob = async (id: string) => {
      const [job] = await f.store.outbox.listForMessage(id);
      return f.smtp.received.find((m) => m.headers.get('message-id') === `<${job!.id}@operator.example>`)!;
    };
    const first = await byJob(anonymous.message.id);
    expect(first.headers.get('from')).toBe('Cabinet Dupont <messagerie@client.example>');
    expect(first.envelopeFrom).toBe('voicemail@operator.example');
    expect(first.headers.get('subject')).toBe('New voicemail from withheld number (1 min 05 s)');
    expect(first.text).toContain('Friday, 14 March 2025 at 09:26');
    const second = await byJob(named.message.id);
    expect(second.headers.get('subject')).toBe('New voicemail from Alice (+442071234567) (4 s)');
  });

  test('without SMTP relay, each mail is written as an .eml file under <storage.dir>/outbox', async () => {
    const line = await f.line({
      audioFormat: 'mp3',
      redirectionEmails: [
        { email: 'a@example.org', type: 'attachment' },
        { email: 'b@example.org', type: 'simple' },
      ],
    });
    const { message } = await f.deposit(line);
    const worker = f.worker({ smtp: { url: '', from: 'repondeur@localhost', fromName: 'Répondeur' } });
    expect(worker.transportDescription).toBe(`eml files in ${join(f.db.dir, 'outbox')}`);
    const before = f.smtp.received.length;
    expect(await worker.runOnce()).toBe(2);
    expect(f.smtp.received.length).toBe(before);
    const jobs = await f.store.outbox.listForMessage(message.id);
    const files = readdirSync(join(f.db.dir, 'outbox'));
    for (const job of jobs) {
      expect(job.status).toBe('sent');
      const name = `${job.id}@localhost.eml`;
      expect(files).toContain(name);
      const mail = parseMail(readFileSync(join(f.db.dir, 'outbox', name)));
      expect(mail.headers.get('message-id')).toBe(`<${job.id}@localhost>`);
      expect(mail.headers.get('to')).toBe(job.recipient);
      expect(mail.attachments).toHaveLength(job.type === 'attachment' ? 1 : 0);
    }
    expect(files.some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  test('notify() wakes a started worker at once, without waiting for the poll', async () => {
    const line = await f.line({ redirectionEmails: [{ email: 'now@example.org', type: 'simple' }] });
    const worker = f.worker({ pollIntervalMs: 3_600_000 });
    worker.start();
    // The start-up run has ended once a run queued behind it has (runs are chained): the message deposited next
    // can only be sent by notify(), the poll timer being on the fixture's manual clock, which does not move.
    await worker.runOnce();
    const { message } = await f.deposit(line);
    worker.notify(message.id);
    // A job marked sent was sent because notify() woke the worker. (Waiting on the SMTP server alone would race
    // with stop(), which interrupts a send whose 250 the worker has not read yet.)
    await until('the outbox row sent', async () => (await f.store.outbox.listForMessage(message.id))[0]?.status === 'sent', 30000);
    await worker.stop();
    expect(f.smtp.received.some((m) => m.envelopeTo.includes('now@example.org'))).toBe(true);
  });
});
