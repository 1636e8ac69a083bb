import { describe, expect, test } from '@jest/globals';
import {
  NotificationConfigError,
  NotificationWorker,
  attachmentFilename,
  formatDuration,
  isPermanentRejection,
  renderNotification,
  retryDelayMs,
  senderFor,
} from '../../src/notify/index.js';
import { notificationsFor } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';

describe('notificationsFor', () => {
  test('one notification per address, in the mailbox format; duplicates dropped, at most five', () => {
    const emails = ['a@x.org', 'b@x.org', 'A@X.org', 'c@x.org', 'd@x.org', 'e@x.org', 'f@x.org'].map((email, i) => ({
      email,
      type: i % 2 === 0 ? ('attachment' as const) : ('simple' as const),
    }));
    expect(notificationsFor({ redirectionEmails: emails, audioFormat: 'ogg' })).toEqual([
      { recipient: 'a@x.org', type: 'attachment', format: 'ogg' },
      { recipient: 'b@x.org', type: 'simple', format: 'ogg' },
      { recipient: 'c@x.org', type: 'simple', format: 'ogg' },
      { recipient: 'd@x.org', type: 'attachment', format: 'ogg' },
      { recipient: 'e@x.org', type: 'simple', format: 'ogg' },
    ]);
  });

  test('format falls back to the defaults, then wav; no addresses, no notifications', () => {
    const one = [{ email: 'a@x.org', type: 'attachment' as const }];
    expect(notificationsFor({ redirectionEmails: one }, { audioFormat: 'mp3' })[0]!.format).toBe('mp3');
    expect(notificationsFor({ redirectionEmails: one })[0]!.format).toBe('wav');
    expect(notificationsFor({})).toEqual([]);
  });
});

describe('back-off', () => {
  test('30 s doubling, capped at one hour, without limit on attempts', () => {
    expect([1, 2, 3, 7, 8, 100, 10_000].map((n) => retryDelayMs(n))).toEqual([
      30_000, 60_000, 120_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
  });
});

describe('templates', () => {
  const facts = { caller: '+33612345678', callerName: null, callee: '+33912345678', durationMs: 42_400, creationDatetime: 0 };

  test('date in Europe/Paris whatever the season (CEST in July)', () => {
    const july = Date.UTC(2025, 6, 1, 22, 30);
    const fr = renderNotification({ ...facts, creationDatetime: july }, 'fr', 'attached');
    expect(fr.text).toContain('mercredi 2 juillet 2025 à 00:30');
    expect(fr.text).toContain('Le message est joint à cet e-mail.');
    expect(fr.subject).toBe('Nouveau message vocal de 0612345678 (42 s)');
    expect(attachmentFilename(july, 'wav')).toBe('message-2025-07-02-0030.wav');
  });

  test('durations and the sender fallback', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(59_600)).toBe('1 min 00 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    const defaults = { address: 'repondeur@localhost', name: 'Répondeur' };
    expect(senderFor({ fromEmail: null, fromName: null }, defaults)).toEqual(defaults);
    expect(senderFor({ fromEmail: 'a@b.fr', fromName: null }, defaults)).toEqual({ address: 'a@b.fr', name: 'Répondeur' });
  });
});

describe('SMTP error classification', () => {
  test('only 5yz replies to the envelope or the content are permanent', () => {
    expect(isPermanentRejection({ code: 'EENVELOPE', responseCode: 550 })).toBe(true);
    expect(isPermanentRejection({ code: 'EMESSAGE', responseCode: 554, permanent: true })).toBe(true);
    expect(isPermanentRejection({ code: 'EENVELOPE', responseCode: 451 })).toBe(false);
    expect(isPermanentRejection({ code: 'EENVELOPE', responseCode: 503 })).toBe(false);
    expect(isPermanentRejection({ code: 'EAUTH', responseCode: 535 })).toBe(false);
    expect(isPermanentRejection({ code: 'ESOCKET' })).toBe(false);
    expect(isPermanentRejection(undefined)).toBe(false);
  });
});

describe('NotificationWorker options', () => {
  const store = { lines: {}, messages: {}, outbox: {} } as unknown as Store;
  const base = { store, smtp: { url: '', from: 'repondeur@localhost', fromName: '' }, storageDir: '/tmp/x' };

  test('rejects bad options with a precise error', () => {
    expect(() => new NotificationWorker({ ...base, smtp: { ...base.smtp, from: 'nobody' } })).toThrow(
      /smtp\.from must be an e-mail address/,
    );
    expect(() => new NotificationWorker({ ...base, smtp: { ...base.smtp, url: 'http://mail' } })).toThrow(
      /smtp\.url must start with smtp:\/\/ or smtps:\/\//,
    );
    expect(() => new NotificationWorker({ ...base, leaseMs: 1000, sendTimeoutMs: 1000 })).toThrow(NotificationConfigError);
    expect(() => new NotificationWorker({ ...base, retry: { baseMs: 10, maxMs: 1 } })).toThrow(/retry\.baseMs/);
  });

  test('chooses SMTP from smtp.url, else .eml files under storage.dir/outbox', () => {
    expect(new NotificationWorker(base).transportDescription).toBe('eml files in /tmp/x/outbox');
    const smtp = new NotificationWorker({ ...base, smtp: { ...base.smtp, url: 'smtp://relay.example:2525' } });
    expect(smtp.transportDescription).toBe('smtp smtp://relay.example:2525');
  });
});
