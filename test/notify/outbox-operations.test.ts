/**
 * Outbox operations against the real in-process SMTP server: after an outage, one accepted mail wakes the jobs
 * waiting out their back-off (instead of up to an hour each); the crash lease comes from `outbox.leaseSeconds`.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../src/config/load.js';
import { NotificationWorker } from '../../src/notify/worker.js';
import { ENGINES } from './harness.js';
import { NotifyFixture } from './fixture.js';

describe.each(ENGINES)('outbox operations on %s', (engine) => {
  let f: NotifyFixture;
  afterEach(async () => f.cleanup());

  test('SMTP back after an outage: the first accepted mail wakes the jobs in back-off, all go out in the same run', async () => {
    f = await NotifyFixture.create(engine, { listen: false });
    const line = await f.line({ redirectionEmails: [{ email: 'a@example.org', type: 'simple' }] });
    const worker = f.worker();
    await f.deposit(line);
    await f.deposit(line);
    expect(await worker.runOnce()).toBe(0);
    const waiting = await f.store.outbox.list({ status: 'pending' });
    expect(waiting).toHaveLength(2);
    for (const job of waiting) expect(job.nextAttemptAt).toBeGreaterThan(f.now + 15_000);

    // Half-way through their back-off, the relay is back and a new message arrives.
    f.now += 15_000;
    await f.smtp.listen();
    await f.deposit(line);
    expect(await worker.runOnce()).toBe(3);
    expect(await f.store.outbox.list({ status: 'pending' })).toHaveLength(0);
    expect(f.smtp.received).toHaveLength(3);
    expect(new Set(f.smtp.countByMessageId().values())).toEqual(new Set([1]));
  });

  test('a job claimed meanwhile (its lease moved nextAttemptAt) is not woken: wakeIfUnchanged compares and sets', async () => {
    f = await NotifyFixture.create(engine, { listen: false });
    const line = await f.line({ redirectionEmails: [{ email: 'b@example.org', type: 'simple' }] });
    await f.deposit(line);
    const [claimed] = await f.store.outbox.claimDue(f.now, 10, 600_000);
    expect(await f.store.outbox.wakeIfUnchanged(claimed!.id, f.now + 60_000, f.now)).toBe(false);
    expect((await f.store.outbox.get(claimed!.id)).nextAttemptAt).toBe(f.now + 600_000);
    expect(await f.store.outbox.wakeIfUnchanged(claimed!.id, f.now + 600_000, f.now)).toBe(true);
    expect((await f.store.outbox.get(claimed!.id)).nextAttemptAt).toBe(f.now);
  });

  test('the lease of a job being sent is outbox.leaseSeconds', async () => {
    f = await NotifyFixture.create(engine);
    f.smtp.mode = 'stall';
    const line = await f.line({ redirectionEmails: [{ email: 'c@example.org', type: 'simple' }] });
    const { message } = await f.deposit(line);
    const config = loadConfig({}, { smtp: { url: f.smtp.url }, storage: { dir: f.db.dir }, outbox: { leaseSeconds: 300 } });
    const worker = NotificationWorker.fromConfig(config, f.store, { clock: f.clock });
    try {
      const run = worker.runOnce();
      await f.smtp.whenStalled();
      const [job] = await f.store.outbox.listForMessage(message.id);
      expect(job!.nextAttemptAt).toBe(f.now + 300_000);
      await worker.stop();
      await run;
    } finally {
      await worker.stop();
    }
  });

  test('outbox.leaseSeconds below twice the send time-out is refused by the configuration', () => {
    expect(() => loadConfig({}, { outbox: { leaseSeconds: 60 } })).toThrow(/outbox\.leaseSeconds.*240/);
  });
});
