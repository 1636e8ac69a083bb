/**
 * RFC 3842 message-summary bodies (application/simple-message-summary) built from a mailbox's folder counts.
 */
import type { Folder } from '../store/schema.js';

export const MESSAGE_SUMMARY_EVENT = 'message-summary';
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

export interface VoiceMessageCounts {
  newMessages: number;
  oldMessages: number;
  urgentNew: number;
  urgentOld: number;
}

/**
 * Counts from folders: `inbox` and `urgent` hold unheard messages (new; `urgent` also urgent-new); a heard message
 * leaves them for `old` (MessageRepository.markHeard), so `old`, `work`, `family` and `friends` count as old.
 * Urgency is not kept once heard: urgent-old is always 0.
 */
export function countsFromFolders(byDir: Record<Folder, number>): VoiceMessageCounts {
  return {
    newMessages: byDir.inbox + byDir.urgent,
    oldMessages: byDir.old + byDir.work + byDir.family + byDir.friends,
    urgentNew: byDir.urgent,
    urgentOld: 0,
  };
}

/**
 * RFC 3842 §5.2: "The message-summary body ... begins with a simple status line "Messages-Waiting", which
 * indicates if there are messages waiting or not ... The value of this field is either "yes" or "no"."
 * "The "Message-Account" header indicates the account of the messages" (a SIP URI).
 * "msg-summary-line = message-context-class HCOLON newmsgs SLASH oldmsgs [ LPAREN new-urgentmsgs SLASH
 * old-urgentmsgs RPAREN ]" with the message-context-class "Voice-Message" (RFC 3458).
 * Messages-Waiting is "yes" when there are new messages (RFC 3842 §5.2 and every handset light).
 */
export function messageSummaryBody(account: string, c: VoiceMessageCounts): string {
  const waiting = c.newMessages > 0 ? 'yes' : 'no';
  return [
    `Messages-Waiting: ${waiting}`,
    `Message-Account: ${account}`,
    `Voice-Message: ${c.newMessages}/${c.oldMessages} (${c.urgentNew}/${c.urgentOld})`,
    '',
  ].join('\r\n');
}

/** `sip:<line>@<host>` (IPv6 literals in brackets). */
export function messageAccount(line: string, host: string): string {
  return `sip:${line}@${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}`;
}
