import {
  DEFAULT_VOICEMAIL_SETTINGS,
  MAX_REDIRECTION_EMAILS,
  type AudioFormat,
  type Notification,
  type VoicemailSettings,
} from './schema.js';

/** Server-wide fallbacks for what a mailbox's settings leave out. */
export interface NotificationDefaults {
  audioFormat?: AudioFormat;
}

/**
 * The outbox rows of a new message: `messages.create` enqueues these itself, from the line's settings read in its
 * transaction, unless it is given an explicit list (no layer above needs the mailer for it). One per
 * redirection address — `attachment` ones carry the recording in the mailbox's `audioFormat`, `simple` ones only
 * the text. Addresses are de-duplicated case-insensitively (first occurrence wins) and capped at
 * {@link MAX_REDIRECTION_EMAILS}.
 */
export function notificationsFor(
  settings: Partial<Pick<VoicemailSettings, 'redirectionEmails' | 'audioFormat'>>,
  defaults: NotificationDefaults = {},
): Notification[] {
  const format = settings.audioFormat ?? defaults.audioFormat ?? DEFAULT_VOICEMAIL_SETTINGS.audioFormat;
  const seen = new Set<string>();
  const out: Notification[] = [];
  for (const { email, type } of settings.redirectionEmails ?? []) {
    const key = email.trim().toLowerCase();
    if (seen.has(key) || out.length >= MAX_REDIRECTION_EMAILS) continue;
    seen.add(key);
    out.push({ recipient: email.trim(), type, format });
  }
  return out;
}
