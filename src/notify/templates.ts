import { toNational } from '../shared/e164.js';
import type { Language } from '../store/index.js';

/** Default time zone of the dates in e-mails (config `voicemail.timeZone`), whatever the server's TZ. */
export const NOTIFICATION_TIME_ZONE = 'Europe/Paris';

/** What the text of a notification e-mail says about one message. */
export interface MessageFacts {
  /** Calling number as stored (E.164, or a SIP user part such as "anonymous"). */
  caller: string;
  callerName: string | null;
  /** The mailbox's line (E.164). */
  callee: string;
  creationDatetime: number;
  durationMs: number;
}

/** How the recording travels with the e-mail. */
export type RecordingState = 'attached' | 'none' | 'unavailable';

export interface RenderedNotification {
  subject: string;
  text: string;
}

interface Wording {
  locale: string;
  /** French typography puts a (non-breaking) space before the colon, English none. */
  colon: string;
  withheld: string;
  subject: (from: string, duration: string) => string;
  intro: string;
  from: string;
  to: string;
  date: string;
  duration: string;
  attached: string;
  unavailable: string;
  footer: string;
}

const WORDING: Readonly<Record<Language, Wording>> = {
  fr: {
    locale: 'fr-FR',
    colon: '\u00a0:',
    withheld: 'numéro masqué',
    subject: (from, duration) => `Nouveau message vocal de ${from} (${duration})`,
    intro: 'Vous avez reçu un nouveau message sur votre répondeur.',
    from: 'De',
    to: 'Pour',
    date: 'Date',
    duration: 'Durée',
    attached: 'Le message est joint à cet e-mail.',
    unavailable: "L'enregistrement n'est plus disponible : il a été supprimé du répondeur avant l'envoi de cet e-mail.",
    footer: 'Ce message a été envoyé automatiquement par votre répondeur ; merci de ne pas y répondre.',
  },
  en: {
    locale: 'en-GB',
    colon: ':',
    withheld: 'withheld number',
    subject: (from, duration) => `New voicemail from ${from} (${duration})`,
    intro: 'You have a new message in your voicemail.',
    from: 'From',
    to: 'To',
    date: 'Date',
    duration: 'Duration',
    attached: 'The message is attached to this e-mail.',
    unavailable: 'The recording is no longer available: it was deleted from the voicemail before this e-mail was sent.',
    footer: 'This message was sent automatically by your voicemail; please do not reply.',
  },
};

/** "42 s", "1 min 05 s" — the same in French and English. */
export function formatDuration(durationMs: number): string {
  const total = Math.max(0, Math.round(durationMs / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes === 0 ? `${seconds} s` : `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

/** A number as a subscriber reads it: national form for the home country, E.164 otherwise. */
export function displayNumber(number: string, countryCode: string): string {
  return /^\+\d+$/.test(number) ? toNational(number, countryCode) : number;
}

function callerLabel(facts: MessageFacts, words: Wording, countryCode: string): string {
  const number = /^\+?\d+$/.test(facts.caller) ? displayNumber(facts.caller, countryCode) : words.withheld;
  const name = facts.callerName?.trim();
  return name ? `${name} (${number})` : number;
}

/** Date and time of the message in `timeZone`, spelled out in the line's language. */
export function formatMessageDate(epochMs: number, language: Language, timeZone = NOTIFICATION_TIME_ZONE): string {
  return new Intl.DateTimeFormat(WORDING[language].locale, {
    timeZone,
    dateStyle: 'full',
    timeStyle: 'short',
  }).format(new Date(epochMs));
}

/** Subject and plain-text body of the notification of one message, in the line's language. */
export function renderNotification(
  facts: MessageFacts,
  language: Language,
  recording: RecordingState,
  countryCode = '33',
  timeZone = NOTIFICATION_TIME_ZONE,
): RenderedNotification {
  const words = WORDING[language];
  const from = callerLabel(facts, words, countryCode);
  const duration = formatDuration(facts.durationMs);
  const lines = [
    words.intro,
    '',
    `${words.from}${words.colon} ${from}`,
    `${words.to}${words.colon} ${displayNumber(facts.callee, countryCode)}`,
    `${words.date}${words.colon} ${formatMessageDate(facts.creationDatetime, language, timeZone)}`,
    `${words.duration}${words.colon} ${duration}`,
    '',
  ];
  if (recording === 'attached') lines.push(words.attached, '');
  if (recording === 'unavailable') lines.push(words.unavailable, '');
  lines.push('-- ', words.footer, '');
  return { subject: words.subject(from, duration), text: lines.join('\n') };
}

/** Attachment file name: the message's local date and time, e.g. `message-2025-03-14-0926.mp3`. */
export function attachmentFilename(creationDatetime: number, extension: string, timeZone = NOTIFICATION_TIME_ZONE): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(creationDatetime));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return `message-${get('year')}-${get('month')}-${get('day')}-${get('hour')}${get('minute')}.${extension}`;
}
