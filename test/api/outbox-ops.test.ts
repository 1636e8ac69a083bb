/**
 * Operator views of the background work through the API: the outbox of every line with errors, "retry now" for
 * failed jobs (one or all), and the retention log.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { notificationsFor } from '../../src/store/index.js';
import { ENGINES, OPERATOR_TOKEN, call, freshLine, startHarness, toneWav, type Harness } from './harness.js';

describe.each(ENGINES)('outbox and retention log API on %s', (engine) => {
  let h: Harness;
  let line: string;
  beforeAll(async () => {
    h = await startHarness(engine);
    line = freshLine();
    await h.store.lines.create({ number: line, pin: '4321', settings: { redirectionEmails: [{ email: 'x@example.org', type: 'simple' }, { email: 'y@example.org', type: 'simple' }] } });
  });
  afterAll(async () => h?.close());

  async function depositWithJobs(): Promise<string[]> {
    const settings = await h.store.lines.getSettings(line);
    const { message } = await h.store.messages.create(
      { line, caller: '+33612345678', callee: line, durationMs: 2000, wav: toneWav(2) },
      { notifications: notificationsFor(settings), maxMessages: 100 },
    );
    return (await h.store.outbox.listForMessage(message.id)).map((j) => j.id);
  }

  test('failed jobs are listed with their error; retry one (failed, then waiting; not while held by a sender), then all', async () => {
    const [a, b] = await depositWithJobs();
    await h.store.outbox.markFailed(a!, '550 5.1.1 mailbox unknown');
    await h.store.outbox.markFailed(b!, '554 rejected');

    const failed = await call(h.base, 'GET', `/api/v1/outbox?status=failed&line=${encodeURIComponent(line)}`, { token: OPERATOR_TOKEN });
    expect(failed.status).toBe(200);
    expect(failed.json.map((j: { id: string; lastError: string }) => [j.id, j.lastError]).sort()).toEqual([[a, '550 5.1.1 mailbox unknown'], [b, '554 rejected']].sort());

    const one = await call(h.base, 'POST', `/api/v1/outbox/${a}/retry`, { token: OPERATOR_TOKEN });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: a, status: 'pending', attempts: 0 });
    expect((await h.store.outbox.get(a!)).nextAttemptAt).toBeLessThanOrEqual(Date.now());

    // A waiting job is made due too; one held by a sender (claimed, lease running) is not: it would go out twice.
    await h.store.outbox.markRetry(a!, Date.now() + 3_600_000, 'connect ECONNREFUSED 127.0.0.1:25', 'relay');
    const pendingView = await call(h.base, 'GET', `/api/v1/outbox?status=pending&line=${encodeURIComponent(line)}`, { token: OPERATOR_TOKEN });
    expect(pendingView.json.find((j: { id: string }) => j.id === a)).toMatchObject({ deferredFor: 'relay', leasedUntilDatetime: null });
    const waiting = await call(h.base, 'POST', `/api/v1/outbox/${a}/retry`, { token: OPERATOR_TOKEN });
    expect(waiting.status).toBe(200);
    expect((await h.store.outbox.get(a!)).nextAttemptAt).toBeLessThanOrEqual(Date.now());
    const [held] = await h.store.outbox.claimDue(Date.now(), 1, 600_000);
    expect(held!.id).toBe(a);
    const again = await call(h.base, 'POST', `/api/v1/outbox/${a}/retry`, { token: OPERATOR_TOKEN });
    expect(again.status).toBe(409);
    expect(again.json.message).toMatch(/being sent right now/);
    expect((await h.store.outbox.get(a!)).leasedUntil).toBe(held!.leasedUntil);
    const unknown = await call(h.base, 'POST', '/api/v1/outbox/no-such-job/retry', { token: OPERATOR_TOKEN });
    expect(unknown.status).toBe(404);

    const all = await call(h.base, 'POST', '/api/v1/outbox/retry', { token: OPERATOR_TOKEN });
    expect(all.status).toBe(200);
    expect(all.json.retried.map((j: { id: string }) => j.id)).toEqual([b]);
    expect(await h.store.outbox.list({ status: 'failed', line })).toHaveLength(0);
  });

  test('the outbox is the operator’s: no token 401, a subscriber session 403', async () => {
    expect((await call(h.base, 'GET', '/api/v1/outbox')).status).toBe(401);
    const login = await call(h.base, 'POST', '/api/v1/auth/login', { body: { line, pin: '4321' } });
    expect(login.status).toBe(200);
    expect((await call(h.base, 'GET', '/api/v1/outbox', { token: login.json.token })).status).toBe(403);
    expect((await call(h.base, 'POST', '/api/v1/outbox/retry', { token: login.json.token })).status).toBe(403);
    expect((await call(h.base, 'GET', '/api/v1/outbox?status=nope', { token: OPERATOR_TOKEN })).status).toBe(400);
  });

  test('the retention log lists automatic deletions, newest first', async () => {
    await h.store.retentionLog.record([{ messageId: 'm-old', line, reason: 'age', details: { ageDays: 200 } }]);
    h.advance(1000);
    await h.store.retentionLog.record([{ messageId: 'm-new', line, reason: 'count' }]);
    const log = await call(h.base, 'GET', `/api/v1/retention-log?line=${encodeURIComponent(line)}`, { token: OPERATOR_TOKEN });
    expect(log.status).toBe(200);
    expect(log.json.map((e: { messageId: string; reason: string }) => [e.messageId, e.reason])).toEqual([['m-new', 'count'], ['m-old', 'age']]);
    expect(log.json[1].details).toEqual({ ageDays: 200 });
  });
});
