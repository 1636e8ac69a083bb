import { expect, test } from '@jest/globals';
import { attachmentFilename, renderNotification } from '../../src/notify/templates.js';

const facts = { caller: '+33611223344', callee: '+33912345678', callerName: null, creationDatetime: Date.UTC(2025, 0, 15, 13, 5), durationMs: 65000 };

test('dates in e-mails follow the configured time zone (voicemail.timeZone), Paris by default', () => {
  expect(renderNotification(facts, 'fr', 'none').text).toMatch(/14:05/);
  expect(renderNotification(facts, 'fr', 'none', '33', 'America/Montreal').text).toMatch(/08:05/);
  expect(attachmentFilename(facts.creationDatetime, 'mp3')).toBe('message-2025-01-15-1405.mp3');
  expect(attachmentFilename(facts.creationDatetime, 'mp3', 'Asia/Tokyo')).toBe('message-2025-01-15-2205.mp3');
});
