import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { NotFoundError, ValidationError, type Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, fakeWav, freshLine } from './harness.js';

const T0 = Date.UTC(2026, 1, 1);
const NOTIFY = [
  { recipient: 'a@example.org', type: 'attachment', format: 'mp3' },
  { recipient: 'b@example.org', type: 'simple', format: 'wav' },
] as const;

describe.each(ENGINES)('outbox on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  let now = T0;
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open({ clock: () => now });
  });
  afterAll(async () => tdb.cleanup());

  async function deposit(line: string, notifications = [...NOTIFY]) {
    return store.messages.create(
      { line, caller: '+33611111111', callee: line, callerName: 'Bob', durationMs: 4200, wav: fakeWav(64), creationDatetime: T0 - 5 },
      { notifications },
    );
  }

  test('jobs are created with the message, pending and due now, with a copy of the message', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    const { message, notifications } = await deposit(line);
    const jobs = await store.outbox.listForMessage(message.id);
    expect(jobs).toHaveLength(2);
    expect(jobs.map((j) => j.id).sort()).toEqual(notifications.map((j) => j.id).sort());
    expect(jobs.find((j) => j.recipient === 'a@example.org')).toMatchObject({
      messageId: message.id, line, type: 'attachment', format: 'mp3', status: 'pending', attempts: 0, nextAttemptAt: T0,
      lastError: null, sentAt: null, smtpMessageId: null,
      message: { caller: '+33611111111', callee: line, callerName: 'Bob', creationDatetime: T0 - 5, durationMs: 4200 },
    });
  });

  test('no job and no message when the surrounding transaction fails', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    let messageId = '';
    await expect(
      store.transaction(async (tx) => {
        messageId = (await tx.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8) }, { notifications: [...NOTIFY] })).message.id;
        expect(await tx.outbox.listForMessage(messageId)).toHaveLength(2);
        throw new Error('mailer config exploded');
      }),
    ).rejects.toThrow('mailer config exploded');
    expect(messageId).not.toBe('');
    await expect(store.messages.get(messageId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.outbox.listForMessage(messageId)).toEqual([]);
    expect(await store.outbox.list({ line })).toEqual([]);
  });

  test('an invalid notification rejects the whole deposit', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    await expect(
      deposit(line, [NOTIFY[0], { recipient: 'nobody', type: 'simple', format: 'wav' }] as never),
    ).rejects.toThrow(/notifications\.1\.recipient must be a valid e-mail/);
    expect(await store.messages.list({ line })).toEqual([]);
  });

  test('claimDue leases due jobs once; markRetry, markSent and markFailed move them on', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    await deposit(line);
    now = T0 + 10;
    const claimed = (await store.outbox.claimDue(now, 100, 60_000)).filter((j) => j.line === line);
    expect(claimed).toHaveLength(2);
    for (const j of claimed) expect(j).toMatchObject({ attempts: 1, nextAttemptAt: now + 60_000, status: 'pending' });
    // Leased: not claimable again until the lease ends.
    expect((await store.outbox.claimDue(now + 59_999, 100)).filter((j) => j.line === line)).toEqual([]);

    const [first, second] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    const retried = await store.outbox.markRetry(first.id, now + 5_000, '421 try later');
    expect(retried).toMatchObject({ status: 'pending', nextAttemptAt: now + 5_000, lastError: '421 try later' });
    const sent = await store.outbox.markSent(second.id, { smtpMessageId: '<x@example.org>' });
    expect(sent).toMatchObject({ status: 'sent', sentAt: now, smtpMessageId: '<x@example.org>', lastError: null });

    const again = (await store.outbox.claimDue(now + 5_000, 100)).filter((j) => j.line === line);
    expect(again.map((j) => [j.id, j.attempts])).toEqual([[first.id, 2]]);
    const failed = await store.outbox.markFailed(first.id, '550 no such user');
    expect(failed).toMatchObject({ status: 'failed', lastError: '550 no such user', attempts: 2 });
    expect((await store.outbox.claimDue(now + 10_000_000, 100)).filter((j) => j.line === line)).toEqual([]);
    expect((await store.outbox.list({ line, status: 'sent' })).map((j) => j.id)).toEqual([second.id]);

    await expect(store.outbox.markSent('no-such-job')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.outbox.claimDue(now, 0)).rejects.toBeInstanceOf(ValidationError);
    now = T0;
  });

  test('concurrent claimers never get the same job', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    for (let i = 0; i < 10; i++) await deposit(line);
    now = T0 + 1;
    const batches = await Promise.all(Array.from({ length: 5 }, () => store.outbox.claimDue(now, 7)));
    const ids = batches.flat().filter((j) => j.line === line).map((j) => j.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    now = T0;
  });

  test('deleting the message keeps its jobs with messageId null and the copied details', async () => {
    const line = (await store.lines.create({ number: freshLine() })).number;
    const { message, notifications } = await deposit(line);
    await store.messages.delete(message.id);
    const job = await store.outbox.get(notifications[0]!.id);
    expect(job.messageId).toBeNull();
    expect(job.message.callerName).toBe('Bob');
    expect(job.status).toBe('pending');
  });
});
