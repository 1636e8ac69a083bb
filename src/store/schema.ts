import { z } from 'zod';
import { AUDIO_FORMATS, type AudioFormat } from '../shared/audio/types.js';

/** Routing of a line: calls reaching it are answered by the fax receiver or by the voicemail. */
export const ROUTINGS = ['fax', 'voicemail'] as const;
export type Routing = (typeof ROUTINGS)[number];

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Message folders, as the operator API names them. */
export const FOLDERS = ['inbox', 'old', 'urgent', 'work', 'family', 'friends'] as const;
export type Folder = (typeof FOLDERS)[number];

export const GREETING_KINDS = ['unavail', 'busy', 'greet', 'temp', 'name'] as const;
export type GreetingKind = (typeof GREETING_KINDS)[number];

/** The attachment formats of the e-mails: the audio formats of the shared kernel. */
export { AUDIO_FORMATS, type AudioFormat };

export const NOTIFICATION_TYPES = ['attachment', 'simple'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const AUTH_SOURCES = ['dialin', 'web'] as const;
export type AuthSource = (typeof AUTH_SOURCES)[number];

export const RETENTION_REASONS = ['count', 'age', 'keepMessage'] as const;
export type RetentionReason = (typeof RETENTION_REASONS)[number];

export const MAX_REDIRECTION_EMAILS = 5;

const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * Normalises a telephone number to E.164 (`+33912345678`): spaces, dots, dashes and parentheses are dropped and
 * an international `00` prefix becomes `+`. Returns undefined when the result is not E.164.
 */
export function normalizeE164(input: string): string | undefined {
  const compact = input.replace(/[\s.\-()]/g, '');
  const plus = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return E164.test(plus) ? plus : undefined;
}

/** A line number, normalised to E.164. */
export const LineNumberSchema = z
  .string({ error: 'line number must be a string' })
  .transform((value, ctx) => {
    const number = normalizeE164(value);
    if (number === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an E.164 number (expected like +33912345678)` });
      return z.NEVER;
    }
    return number;
  });

/** A PIN as typed on the keypad: 4 to 10 digits. */
export const PinSchema = z
  .string({ error: 'pin must be a string of digits' })
  .regex(/^\d{4,10}$/, { error: 'pin must be 4 to 10 digits' });

export const RoutingSchema = z.enum(ROUTINGS, { error: `routing must be one of ${ROUTINGS.join(', ')}` });
export const LanguageSchema = z.enum(LANGUAGES, { error: `language must be one of ${LANGUAGES.join(', ')}` });
export const FolderSchema = z.enum(FOLDERS, { error: `dir must be one of ${FOLDERS.join(', ')}` });
export const GreetingKindSchema = z.enum(GREETING_KINDS, { error: `kind must be one of ${GREETING_KINDS.join(', ')}` });
export const AudioFormatSchema = z.enum(AUDIO_FORMATS, {
  error: `audioFormat must be one of ${AUDIO_FORMATS.join(', ')}`,
});
export const NotificationTypeSchema = z.enum(NOTIFICATION_TYPES, {
  error: `type must be one of ${NOTIFICATION_TYPES.join(', ')}`,
});

const bool = (field: string) => z.boolean({ error: `${field} must be a boolean` });
const email = (field: string) => z.email({ error: `${field} must be a valid e-mail address` });

export const RedirectionEmailSchema = z.strictObject(
  { email: email('email'), type: NotificationTypeSchema },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field(s) ${iss.keys.join(', ')}` : 'must be { email, type }') },
);

const redirectionEmails = z
  .array(RedirectionEmailSchema, { error: 'redirectionEmails must be an array of { email, type }' })
  .max(MAX_REDIRECTION_EMAILS, { error: `redirectionEmails: at most ${MAX_REDIRECTION_EMAILS} addresses` })
  .refine((list) => new Set(list.map((r) => r.email.toLowerCase())).size === list.length, {
    error: 'redirectionEmails: the same address appears twice',
  });

/** Every voicemail setting, none defaulted: the base of the full and the update schemas. */
const settingsShape = {
  greetingType: z.enum(['default', 'full', 'short'], { error: 'greetingType must be one of default, full, short' }),
  temporaryGreetingActivated: bool('temporaryGreetingActivated'),
  doNotRecord: bool('doNotRecord'),
  forcePassword: bool('forcePassword'),
  redirectionEmails,
  audioFormat: AudioFormatSchema,
  /** Sender address of notification e-mails; null = the server's configured default. */
  fromEmail: email('fromEmail').nullable(),
  /** Sender display name of notification e-mails; null = the server's configured default. */
  fromName: z.string({ error: 'fromName must be a string' }).max(200, { error: 'fromName: at most 200 characters' }).nullable(),
  keepMessage: bool('keepMessage'),
};

const unknownField = (iss: { code?: string; keys?: string[] }) =>
  iss.code === 'unrecognized_keys' ? `unknown setting(s): ${(iss.keys ?? []).join(', ')}` : 'settings must be an object';

export const DEFAULT_VOICEMAIL_SETTINGS = Object.freeze({
  greetingType: 'default',
  temporaryGreetingActivated: false,
  doNotRecord: false,
  forcePassword: false,
  redirectionEmails: [],
  audioFormat: 'wav',
  fromEmail: null,
  fromName: null,
  keepMessage: true,
} as const);

/** Complete voicemail settings; absent fields take {@link DEFAULT_VOICEMAIL_SETTINGS}. Unknown fields are rejected. */
export const VoicemailSettingsSchema = z.strictObject(
  {
    greetingType: settingsShape.greetingType.default(DEFAULT_VOICEMAIL_SETTINGS.greetingType),
    temporaryGreetingActivated: settingsShape.temporaryGreetingActivated.default(false),
    doNotRecord: settingsShape.doNotRecord.default(false),
    forcePassword: settingsShape.forcePassword.default(false),
    redirectionEmails: settingsShape.redirectionEmails.default(() => []),
    audioFormat: settingsShape.audioFormat.default(DEFAULT_VOICEMAIL_SETTINGS.audioFormat),
    fromEmail: settingsShape.fromEmail.default(null),
    fromName: settingsShape.fromName.default(null),
    keepMessage: settingsShape.keepMessage.default(true),
  },
  { error: unknownField },
);
export type VoicemailSettings = z.output<typeof VoicemailSettingsSchema>;

/** A partial update of the settings: only the fields present change (`redirectionEmails` is replaced whole). */
export const VoicemailSettingsUpdateSchema = z.strictObject(settingsShape, { error: unknownField }).partial();

/** One e-mail notification to enqueue with a new message. */
export const NotificationSchema = z.strictObject({
  recipient: email('recipient'),
  type: NotificationTypeSchema,
  format: AudioFormatSchema,
});
export type Notification = z.infer<typeof NotificationSchema>;

/** Epoch milliseconds as stored: a non-negative safe integer. */
export const EpochMsSchema = z
  .number({ error: 'must be epoch milliseconds' })
  .int({ error: 'must be whole epoch milliseconds' })
  .nonnegative({ error: 'must not be negative' });
