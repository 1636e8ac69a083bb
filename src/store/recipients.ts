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
 * The outbox rows of a new message, computed by the store's side of the deposit (no layer above needs the mailer
 * for it). The e-mail notifications to enqueue with a new message of a mailbox (pass them to `messages.create`): one per
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
