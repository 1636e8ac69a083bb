import { describe, expect, test } from '@jest/globals';
import { countsFromFolders, messageAccount, messageSummaryBody } from '../../src/mwi/message-summary.js';

describe('RFC 3842 message-summary body', () => {
  test('no messages: Messages-Waiting no and 0/0', () => {
    const c = countsFromFolders({ inbox: 0, old: 0, urgent: 0, work: 0, family: 0, friends: 0 });
    expect(messageSummaryBody('sip:+33123@vm.example', c)).toBe(
      'Messages-Waiting: no\r\nMessage-Account: sip:+33123@vm.example\r\nVoice-Message: 0/0 (0/0)\r\n',
    );
  });

  test('new = inbox + urgent, old = the other folders, urgent counted apart', () => {
    const c = countsFromFolders({ inbox: 2, old: 3, urgent: 1, work: 1, family: 0, friends: 2 });
    expect(c).toEqual({ newMessages: 3, oldMessages: 6, urgentNew: 1, urgentOld: 0 });
    const body = messageSummaryBody('sip:1@h', c);
    expect(body).toContain('Messages-Waiting: yes\r\n');
    expect(body).toContain('Voice-Message: 3/6 (1/0)\r\n');
  });

  test('only heard messages: no light', () => {
    const c = countsFromFolders({ inbox: 0, old: 4, urgent: 0, work: 0, family: 0, friends: 0 });
    expect(messageSummaryBody('sip:1@h', c)).toMatch(/^Messages-Waiting: no\r\n/);
  });

  test('Message-Account brackets IPv6 hosts', () => {
    expect(messageAccount('+331', '::1')).toBe('sip:+331@[::1]');
    expect(messageAccount('+331', '127.0.0.1')).toBe('sip:+331@127.0.0.1');
  });
});
