/**
 * Outbox operations against the real in-process SMTP server: after an outage, one accepted mail wakes the jobs
 * waiting out their back-off (instead of up to an hour each), and so does a probe of the relay when no mail is due;
 * "retry now" for failed and waiting jobs respects a sender's lease; the crash lease comes from `outbox.leaseSeconds`.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../src/config/load.js';
import { NotificationWorker } from '../../src/notify/worker.js';
import { systemClock } from '../../src/shared/clock.js';
import { ENGINES } from './harness.js';
import { NotifyFixture } from './fixture.js';
import { until } from '../helpers/wait.js';

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

  test('SMTP down, then up with no new mail: the relay probe sends every waiting job within seconds, each once', async () => {
    f = await NotifyFixture.create(engine, { listen: false });
    const line = await f.line({ redirectionEmails: [{ email: 'p@example.org', type: 'simple' }, { email: 'q@example.org', type: 'simple' }] });
    const worker = f.worker({ clock: systemClock, pollIntervalMs: 100, relayProbeIntervalMs: 200 });
    for (let i = 0; i < 3; i++) await f.deposit(line);
    expect(await worker.runOnce()).toBe(0);
    const waiting = await f.store.outbox.list({ status: 'pending' });
    expect(waiting).toHaveLength(6);
    for (const job of waiting) {
      expect(job).toMatchObject({ deferredFor: 'relay', leasedUntil: null, attempts: 1 });
      expect(job.lastError).toMatch(/ECONNREFUSED/);
      expect(job.nextAttemptAt).toBeGreaterThan(Date.now() + 20_000);
    }

    await f.smtp.listen();
    const back = Date.now();
    worker.start();
    await until('the 6 waiting mails delivered', () => f.smtp.received.length >= 6, 10_000);
    // Their back-off was 30 s: only the probe can have sent them this early.
    expect(Date.now() - back).toBeLessThan(10_000);
    for (let sent = 0; sent < 6; sent = (await f.store.outbox.list({ status: 'sent' })).length) {
      if (Date.now() - back > 15_000) throw new Error(`only ${sent} of 6 jobs marked sent`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await worker.stop();
    expect(f.smtp.received).toHaveLength(6);
    expect(new Set(f.smtp.countByMessageId().values())).toEqual(new Set([1]));
    expect(await f.store.outbox.list({ status: 'pending' })).toHaveLength(0);
    expect(await f.store.outbox.list({ status: 'sent' })).toHaveLength(6);
  });

  test('a 4yz answer to one mail is not an outage: the probe leaves that job to its back-off', async () => {
    f = await NotifyFixture.create(engine);
    f.smtp.mode = 'tempfail';
    const line = await f.line({ redirectionEmails: [{ email: 'r@example.org', type: 'simple' }] });
    const worker = f.worker({ relayProbeIntervalMs: 10 });
    const { message } = await f.deposit(line);
    expect(await worker.runOnce()).toBe(0);
    const [job] = await f.store.outbox.listForMessage(message.id);
    expect(job).toMatchObject({ status: 'pending', deferredFor: 'reply' });
    f.smtp.mode = 'accept';
    f.now += 1000;
    expect(await worker.runOnce()).toBe(0);
    expect((await f.store.outbox.get(job!.id)).nextAttemptAt).toBe(job!.nextAttemptAt);
  });

  test('retry now makes failed and waiting jobs due, but never a job held by a sender (no second copy)', async () => {
    f = await NotifyFixture.create(engine, { listen: false });
    const line = await f.line({ redirectionEmails: [{ email: 's@example.org', type: 'simple' }] });
    const worker = f.worker();
    const waiting = (await f.deposit(line)).message.id;
    const failing = (await f.deposit(line)).message.id;
    const held = (await f.deposit(line)).message.id;
    expect(await worker.runOnce()).toBe(0);
    const [w] = await f.store.outbox.listForMessage(waiting);
    const [x] = await f.store.outbox.listForMessage(failing);
    const [h] = await f.store.outbox.listForMessage(held);
    await f.store.outbox.markFailed(x!.id, '550 no such user');
    // Another node claims `held` and is sending it now.
    await f.store.outbox.retryNow(f.now, h!.id);
    const [claimed] = await f.store.outbox.claimDue(f.now, 1, 600_000);
    expect(claimed!.id).toBe(h!.id);

    expect(await f.store.outbox.retryNow(f.now, h!.id)).toEqual([]);
    const all = await f.store.outbox.retryNow(f.now);
    expect(all.map((j) => j.id).sort()).toEqual([w!.id, x!.id].sort());
    expect((await f.store.outbox.get(w!.id))).toMatchObject({ status: 'pending', nextAttemptAt: f.now, attempts: 1 });
    expect((await f.store.outbox.get(x!.id))).toMatchObject({ status: 'pending', nextAttemptAt: f.now, attempts: 0 });
    expect((await f.store.outbox.get(h!.id))).toMatchObject({ leasedUntil: f.now + 600_000, nextAttemptAt: f.now + 600_000 });
    // Neither the relay's return nor a second claimer takes the held job.
    expect(await f.store.outbox.wakeDeferredForRelay(f.now)).toBe(0);
    expect((await f.store.outbox.claimDue(f.now, 10, 600_000)).map((j) => j.id).sort()).toEqual([w!.id, x!.id].sort());
    // Once its lease is over (its sender died), it is anyone's again.
    expect((await f.store.outbox.retryNow(f.now + 600_000, h!.id)).map((j) => j.id)).toEqual([h!.id]);
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
