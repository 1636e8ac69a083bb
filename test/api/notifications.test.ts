/**
 * E-mail notification status per message, as the subscriber sees it through the API (issue 6: "failures are
 * logged and visible per message").
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ENGINES, call, enc, freshLine, login, startHarness, toneWav, type Harness } from './harness.js';

describe.each(ENGINES)('notifications of a message on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => h?.close());

  test('each recipient with its status, attempts and last error; other lines and unknown ids are refused', async () => {
    const line = freshLine();
    await h.store.lines.create({ number: line, pin: '2468', routing: 'voicemail' });
    const { message } = await h.store.messages.create(
      { line, caller: '+33611223344', callee: line, durationMs: 2000, wav: toneWav(2) },
      {
        notifications: [
          { recipient: 'a@example.org', type: 'attachment', format: 'mp3' },
          { recipient: 'b@example.org', type: 'simple', format: 'wav' },
        ],
      },
    );
    const [jobA, jobB] = await h.store.outbox.listForMessage(message.id);
    const failing = [jobA, jobB].find((j) => j!.recipient === 'a@example.org')!;
    const sent = [jobA, jobB].find((j) => j!.recipient === 'b@example.org')!;
    await h.store.outbox.markRetry(failing.id, Date.now() + 60_000, 'connect ECONNREFUSED 127.0.0.1:25');
    await h.store.outbox.markSent(sent.id, { smtpMessageId: '<x@example.org>' });

    const token = await login(h.base, line, '2468');
    const r = await call(h.base, 'GET', `/api/v1/lines/${enc(line)}/voicemail/directories/${message.id}/notifications`, { token });
    expect(r.status).toBe(200);
    const byRecipient = Object.fromEntries((r.json as Array<Record<string, unknown>>).map((n) => [n.recipient, n]));
    expect(byRecipient['a@example.org']).toMatchObject({ type: 'attachment', format: 'mp3', status: 'pending', lastError: 'connect ECONNREFUSED 127.0.0.1:25', sentDatetime: null });
    expect(typeof byRecipient['a@example.org']!.nextAttemptDatetime).toBe('string');
    expect(byRecipient['b@example.org']).toMatchObject({ type: 'simple', status: 'sent', nextAttemptDatetime: null });
    expect(typeof byRecipient['b@example.org']!.sentDatetime).toBe('string');

    const other = freshLine();
    await h.store.lines.create({ number: other, pin: '1357', routing: 'voicemail' });
    const otherToken = await login(h.base, other, '1357');
    expect((await call(h.base, 'GET', `/api/v1/lines/${enc(line)}/voicemail/directories/${message.id}/notifications`, { token: otherToken })).status).toBe(403);
    expect((await call(h.base, 'GET', `/api/v1/lines/${enc(other)}/voicemail/directories/${message.id}/notifications`, { token: otherToken })).status).toBe(404);
    expect((await call(h.base, 'GET', `/api/v1/lines/${enc(line)}/voicemail/directories/..%2F..%2Fetc/notifications`, { token })).status).toBe(400);
  });
});
