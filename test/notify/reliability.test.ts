import { afterEach, describe, expect, test } from '@jest/globals';
import { NotFoundError, type OutboxJob } from '../../src/store/index.js';
import { ENGINES } from './harness.js';
import { NotifyFixture } from './fixture.js';

const TWO_RECIPIENTS = [
  { email: 'with-audio@example.org', type: 'attachment' as const },
  { email: 'text-only@example.org', type: 'simple' as const },
];

describe.each(ENGINES)('notification reliability on %s', (engine) => {
  let f: NotifyFixture;
  afterEach(async () => f.cleanup());

  const pending = async (): Promise<OutboxJob[]> => f.store.outbox.list({ status: 'pending' });

  /** Every job of the fixture delivered exactly once, each under its own Message-ID. */
  const expectExactlyOnce = async (expected: number) => {
    const sent = await f.store.outbox.list({ status: 'sent' });
    expect(sent).toHaveLength(expected);
    const counts = f.smtp.countByMessageId();
    expect(counts.size).toBe(expected);
    for (const job of sent) expect(counts.get(job.smtpMessageId!)).toBe(1);
  };

  test('SMTP down (not listening) for days while messages arrive, then up: every mail arrives exactly once', async () => {
    f = await NotifyFixture.create(engine, { listen: false });
    const line = await f.line({ audioFormat: 'flac', redirectionEmails: TWO_RECIPIENTS });
    const worker = f.worker();
    for (let i = 0; i < 3; i++) {
      await f.deposit(line);
      expect(await worker.runOnce()).toBe(0);
      f.now += 1000;
    }
    const first = await pending();
    expect(first).toHaveLength(6);
    for (const job of first) expect(job.lastError).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);

    // Three days of outage: follow one job's back-off, from 30 s doubling up to the 1 h cap, then staying there.
    const watched = first[0]!.id;
    const delays: number[] = [];
    const end = f.now + 3 * 86_400_000;
    while (f.now < end) {
      const before = await f.store.outbox.get(watched);
      f.now = Math.min(...(await pending()).map((j) => j.nextAttemptAt));
      expect(await worker.runOnce()).toBe(0);
      const after = await f.store.outbox.get(watched);
      if (after.attempts > before.attempts) delays.push(after.nextAttemptAt - f.now);
    }
    expect(delays.slice(0, 8)).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
    expect(delays.every((d) => d <= 3_600_000)).toBe(true);
    expect((await f.store.outbox.get(watched)).attempts).toBeGreaterThan(70);
    expect(f.smtp.received).toHaveLength(0);

    await f.smtp.listen();
    f.now += 3_600_000;
    expect(await worker.runOnce()).toBe(6);
    await expectExactlyOnce(6);
    f.now += 10 * 86_400_000;
    expect(await worker.runOnce()).toBe(0);
    expect(f.smtp.received).toHaveLength(6);
  });

  test('SMTP answering 451 (4xx): retried after 30 s, error kept per job, then delivered exactly once', async () => {
    f = await NotifyFixture.create(engine);
    f.smtp.mode = 'tempfail';
    const line = await f.line({ redirectionEmails: TWO_RECIPIENTS });
    const { message } = await f.deposit(line);
    const worker = f.worker();
    expect(await worker.runOnce()).toBe(0);
    const jobs = await f.store.outbox.listForMessage(message.id);
    for (const job of jobs) {
      expect(job).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: f.now + 30_000 });
      expect(job.lastError).toMatch(/451/);
    }
    f.smtp.mode = 'accept';
    f.now += 29_000;
    expect(await worker.runOnce()).toBe(0);
    f.now += 1_000;
    expect(await worker.runOnce()).toBe(2);
    await expectExactlyOnce(2);
    expect((await f.store.outbox.listForMessage(message.id)).map((j) => j.lastError)).toEqual([null, null]);
  });

  test('a recipient refused with 550 fails for good; the other recipients get their mail', async () => {
    f = await NotifyFixture.create(engine);
    f.smtp.rejectPermanently.add('text-only@example.org');
    const line = await f.line({ redirectionEmails: TWO_RECIPIENTS });
    const { message } = await f.deposit(line);
    const worker = f.worker();
    expect(await worker.runOnce()).toBe(1);
    const jobs = await f.store.outbox.listForMessage(message.id);
    const text = jobs.find((j) => j.recipient === 'text-only@example.org');
    const audio = jobs.find((j) => j.recipient !== 'text-only@example.org');
    expect(audio!.status).toBe('sent');
    expect(text).toMatchObject({ status: 'failed', attempts: 1 });
    expect(text!.lastError).toMatch(/550/);
    f.now += 86_400_000;
    expect(await worker.runOnce()).toBe(0);
    expect((await f.store.outbox.get(text!.id)).attempts).toBe(1);
  });

  test('worker stopped while the server stalls DATA: nothing lost, a new worker delivers it once', async () => {
    f = await NotifyFixture.create(engine);
    f.smtp.mode = 'stall';
    const line = await f.line({ redirectionEmails: [{ email: 'stalled@example.org', type: 'attachment' }] });
    const { message } = await f.deposit(line);
    const first = f.worker();
    const run = first.runOnce();
    await f.smtp.whenStalled();
    await first.stop();
    await expect(run).resolves.toBe(0);
    const [job] = await f.store.outbox.listForMessage(message.id);
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job!.lastError).toMatch(/^interrupted/);
    expect(job!.nextAttemptAt).toBeLessThanOrEqual(f.now);
    expect(f.smtp.received).toHaveLength(0);

    f.smtp.mode = 'accept';
    const second = f.worker();
    expect(await second.runOnce()).toBe(1);
    await expectExactlyOnce(1);
  });

  test('a worker that died after claiming: its jobs are taken over once their lease runs out', async () => {
    f = await NotifyFixture.create(engine);
    const line = await f.line({ redirectionEmails: TWO_RECIPIENTS });
    await f.deposit(line);
    expect(await f.store.outbox.claimDue(f.now, 10, 600_000)).toHaveLength(2);
    const worker = f.worker({ leaseMs: 600_000 });
    expect(await worker.runOnce()).toBe(0);
    f.now += 600_000;
    expect(await worker.runOnce()).toBe(2);
    await expectExactlyOnce(2);
  });

  test('SMTP accepted but the outbox update failed: the resend carries the same Message-ID', async () => {
    f = await NotifyFixture.create(engine);
    const line = await f.line({ redirectionEmails: [{ email: 'dup@example.org', type: 'simple' }] });
    const { message } = await f.deposit(line);
    const outbox = f.store.outbox;
    const failingOutbox = new Proxy(outbox, {
      get: (target, key) => {
        if (key === 'markSent') return () => Promise.reject(new Error('database went away'));
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const crashing = f.worker({ store: { lines: f.store.lines, messages: f.store.messages, outbox: failingOutbox } });
    expect(await crashing.runOnce()).toBe(0);
    f.now += 600_000;
    expect(await f.worker().runOnce()).toBe(1);
    const [job] = await f.store.outbox.listForMessage(message.id);
    expect(f.smtp.received.map((m) => m.headers.get('message-id'))).toEqual([job!.smtpMessageId, job!.smtpMessageId]);
  });

  test('keepMessage off: the message is deleted (and logged) only once every attachment mail is sent', async () => {
    f = await NotifyFixture.create(engine, { listen: false });
    const line = await f.line({
      keepMessage: false,
      redirectionEmails: [...TWO_RECIPIENTS, { email: 'second-audio@example.org', type: 'attachment' }],
    });
    const { message } = await f.deposit(line);
    const worker = f.worker();
    expect(await worker.runOnce()).toBe(0);
    await expect(f.store.messages.get(message.id)).resolves.toMatchObject({ id: message.id });

    await f.smtp.listen();
    f.smtp.rejectPermanently.add('second-audio@example.org');
    f.now += 30_000;
    expect(await worker.runOnce()).toBe(2);
    // One attachment mail failed for good: the recording was not delivered to everyone, the message stays.
    await expect(f.store.messages.get(message.id)).resolves.toMatchObject({ id: message.id });
    expect(await f.store.retentionLog.list({ line })).toEqual([]);

    const { message: next } = await f.deposit(line);
    f.smtp.rejectPermanently.clear();
    expect(await worker.runOnce()).toBe(3);
    await expect(f.store.messages.get(next.id)).rejects.toBeInstanceOf(NotFoundError);
    const log = await f.store.retentionLog.list({ line });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ messageId: next.id, reason: 'keepMessage' });
    expect((log[0]!.details.recipients as string[]).sort()).toEqual(['second-audio@example.org', 'with-audio@example.org']);
  });

  test('keepMessage off with only simple recipients: the message is kept (its recording went nowhere)', async () => {
    f = await NotifyFixture.create(engine);
    const line = await f.line({ keepMessage: false, redirectionEmails: [{ email: 'text@example.org', type: 'simple' }] });
    const { message } = await f.deposit(line);
    expect(await f.worker().runOnce()).toBe(1);
    await expect(f.store.messages.get(message.id)).resolves.toMatchObject({ id: message.id });
  });

  test('an attachment job whose message was deleted before sending goes out without audio, saying so', async () => {
    f = await NotifyFixture.create(engine);
    const line = await f.line({ redirectionEmails: [{ email: 'late@example.org', type: 'attachment' }] });
    const { message } = await f.deposit(line);
    await f.store.messages.delete(message.id);
    expect(await f.worker().runOnce()).toBe(1);
    expect(f.smtp.received[0]!.attachments).toEqual([]);
    expect(f.smtp.received[0]!.text).toContain("L'enregistrement n'est plus disponible");
  });
});
