/**
 * Spoken phrases assembled from recorded words: every function returns the prompt ids to play, in
 * order (see prompts/catalogue.json), for {@link PromptCatalog.concat}. Pure: no audio, no I/O.
 */
import { assertLanguage, grammaticalNumber, isSayableDigitString, MAX_SPOKEN_NUMBER, sayDigits, sayNumber, type SpeechLanguage } from './numbers.js';

export { grammaticalNumber, isSayableDigitString, MAX_SPOKEN_NUMBER, sayDigits, sayNumber, SPEECH_LANGUAGES } from './numbers.js';
export type { GrammaticalNumber, SayNumberOptions, SpeechLanguage } from './numbers.js';

/** Mailbox folders in Asterisk's order: the digit chosen in the folder menu is the index. */
export const MAILBOX_FOLDERS = ['inbox', 'old', 'work', 'family', 'friends', 'urgent'] as const;
export type MailboxFolder = (typeof MAILBOX_FOLDERS)[number];

const FOLDER_PROMPTS: Readonly<Record<MailboxFolder, string>> = {
  inbox: 'folder_inbox',
  old: 'folder_old',
  work: 'folder_work',
  family: 'folder_family',
  friends: 'folder_friends',
  urgent: 'folder_urgent',
};

const WEEKDAYS: Readonly<Record<string, string>> = {
  Mon: 'weekday_monday',
  Tue: 'weekday_tuesday',
  Wed: 'weekday_wednesday',
  Thu: 'weekday_thursday',
  Fri: 'weekday_friday',
  Sat: 'weekday_saturday',
  Sun: 'weekday_sunday',
};

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'].map(
  (month) => `month_${month}`,
);

const DAY_MS = 86_400_000;

/**
 * A noun said after a count. French singular and plural nouns sound the same ("message"/"messages",
 * "minute"/"minutes"), so the singular prompt says the count too: `one` is "un message", "une minute" — a wrong
 * agreement is then heard ("deux un message"), and each plural prompt differs from its singular.
 */
export interface CountedNoun {
  /** "un nouveau message", "une heure": the count 1 with its singular noun, in one prompt. */
  readonly one: string;
  /** "nouveaux messages", "heures": the plural noun, said after the number. */
  readonly many: string;
  /** The count 0 with its noun where the language takes the singular there (French "zéro seconde"). */
  readonly zero?: string;
  /** French: the noun is feminine ("vingt et une heures"). */
  readonly feminine?: boolean;
}

export const NEW_MESSAGE: CountedNoun = { one: 'new_message', many: 'new_messages' };
export const OLD_MESSAGE: CountedNoun = { one: 'old_message', many: 'old_messages' };
export const MESSAGE: CountedNoun = { one: 'message_word', many: 'messages_word' };
export const HOUR: CountedNoun = { one: 'hour', many: 'hours', feminine: true };
export const MINUTE: CountedNoun = { one: 'minute', many: 'minutes', feminine: true };
export const SECOND: CountedNoun = { one: 'second', many: 'seconds', zero: 'zero_seconds', feminine: true };

/** `n` and its noun agreeing with it: "deux nouveaux messages", "un nouveau message", "zéro seconde". */
export function sayCount(n: number, noun: CountedNoun, language: SpeechLanguage): string[] {
  if (grammaticalNumber(n, language) === 'plural') return [...sayNumber(n, language, { feminine: noun.feminine === true }), noun.many];
  if (n === 1) return [noun.one];
  if (n === 0 && noun.zero !== undefined) return [noun.zero];
  throw new RangeError(`cannot say ${n} ${noun.many} in ${language}: no singular prompt for that count`);
}

function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SPOKEN_NUMBER) {
    throw new RangeError(`${what} must be an integer from 0 to ${MAX_SPOKEN_NUMBER}, got ${value}`);
  }
}

/**
 * The count announcement: "Vous avez deux nouveaux messages et un ancien message",
 * "Vous n'avez pas de message" (0/0), "Vous n'avez pas de nouveau message et trois anciens messages" (0/3).
 */
export function sayMessageCount(newCount: number, oldCount: number, language: SpeechLanguage): string[] {
  assertLanguage(language);
  assertCount(newCount, 'newCount');
  assertCount(oldCount, 'oldCount');
  if (newCount === 0 && oldCount === 0) return ['no_messages'];
  if (newCount === 0) return ['no_new_messages', 'and', ...sayCount(oldCount, OLD_MESSAGE, language)];
  const fresh = ['you_have', ...sayCount(newCount, NEW_MESSAGE, language)];
  return oldCount === 0 ? fresh : [...fresh, 'and', ...sayCount(oldCount, OLD_MESSAGE, language)];
}

/** "Vous avez trois messages dans le dossier travail"; "Ce dossier est vide" for 0. */
export function sayFolderCount(count: number, folder: MailboxFolder, language: SpeechLanguage): string[] {
  assertLanguage(language);
  assertCount(count, 'count');
  if (count === 0) return ['folder_empty'];
  return ['you_have', ...sayCount(count, MESSAGE, language), 'in_folder', ...sayFolderName(folder)];
}

/** A folder's name: "travail", "nouveaux messages" (inbox). Accepts Asterisk's spelling ("INBOX", "Old", …). */
export function sayFolderName(folder: string): string[] {
  const key = folder.toLowerCase() as MailboxFolder;
  const id = Object.hasOwn(FOLDER_PROMPTS, key) ? FOLDER_PROMPTS[key] : undefined;
  if (id === undefined) throw new RangeError(`unknown mailbox folder "${folder}" (known: ${MAILBOX_FOLDERS.join(', ')})`);
  return [id];
}

/** "Message numéro trois". */
export function sayMessageNumber(n: number, language: SpeechLanguage): string[] {
  return ['message_number', ...sayNumber(n, language)];
}

/** Hours, minutes and seconds, e.g. "deux minutes cinq secondes", "une minute", "quarante-cinq secondes". */
export function sayDuration(seconds: number, language: SpeechLanguage): string[] {
  assertLanguage(language);
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`duration must be a finite number of seconds ≥ 0, got ${seconds}`);
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  if (hours > MAX_SPOKEN_NUMBER) throw new RangeError(`duration of ${seconds} s is too long to say`);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  // French: heure, minute and seconde are feminine ("vingt et une minutes"); the singular holds below 2 ("zéro seconde").
  const ids: string[] = [];
  if (hours > 0) ids.push(...sayCount(hours, HOUR, language));
  if (minutes > 0) ids.push(...sayCount(minutes, MINUTE, language));
  if (secs > 0 || total === 0) ids.push(...sayCount(secs, SECOND, language));
  return ids;
}

/** The wall-clock parts of an instant in a time zone. */
interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: string;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(epochMs: number, timeZone: string): LocalTime {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not a time: ${epochMs}`);
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        weekday: 'short',
        hour: 'numeric',
        minute: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone "${timeZone}" (expected an IANA name such as "Europe/Paris")`);
    }
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(epochMs)) parts[part.type] = part.value;
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    weekday: parts['weekday'] ?? '',
    hour: Number(parts['hour']) % 24,
    minute: Number(parts['minute']),
  };
}

function sayClock(time: LocalTime, language: SpeechLanguage): string[] {
  const { hour, minute } = time;
  if (language === 'fr') {
    // 24-hour clock, "heure" and "minute" being feminine: "à une heure", "à vingt et une heures une".
    const minutes = minute === 0 ? [] : sayNumber(minute, 'fr', { feminine: true });
    if (hour === 0) return ['midnight', ...minutes];
    return [...sayCount(hour, HOUR, 'fr'), ...minutes];
  }
  if (minute === 0 && hour === 0) return ['midnight'];
  if (minute === 0 && hour === 12) return ['noon'];
  const clock = hour % 12 === 0 ? 12 : hour % 12;
  const suffix = hour < 12 ? 'am' : 'pm';
  if (minute === 0) return [`number_${clock}`, suffix];
  if (minute < 10) return [`number_${clock}`, 'oh', `number_${minute}`, suffix];
  return [`number_${clock}`, ...sayNumber(minute, 'en'), suffix];
}

export interface SayDateTimeOptions {
  /**
   * The current time: when given, a date on the same local day is said "aujourd'hui", the day
   * before "hier", and the year is said when it differs from the current one.
   */
  now?: number;
}

/**
 * When a message was received: "reçu le mardi vingt-quatre novembre à quatorze heures trente-deux",
 * "reçu le premier mars à minuit", "received on Tuesday November twenty-fourth at two thirty-two P.M.".
 * The wall-clock time is taken in `timeZone` (IANA), so daylight saving time is accounted for.
 */
export function sayDateTime(epochMs: number, language: SpeechLanguage, timeZone = 'Europe/Paris', options: SayDateTimeOptions = {}): string[] {
  assertLanguage(language);
  const time = localTime(epochMs, timeZone);
  const clock = ['at', ...sayClock(time, language)];
  if (options.now !== undefined) {
    const today = localTime(options.now, timeZone);
    const daysAgo = Math.round((Date.UTC(today.year, today.month - 1, today.day) - Date.UTC(time.year, time.month - 1, time.day)) / DAY_MS);
    if (daysAgo === 0) return ['received_today', ...clock];
    if (daysAgo === 1) return ['received_yesterday', ...clock];
  }
  const weekday = WEEKDAYS[time.weekday];
  const month = MONTHS[time.month - 1];
  if (weekday === undefined || month === undefined) throw new RangeError(`cannot read the date of ${epochMs} in ${timeZone}`);
  const year = options.now !== undefined && localTime(options.now, timeZone).year !== time.year ? sayNumber(time.year, language) : [];
  if (language === 'fr') {
    // French days are cardinal except the first: "le premier mars", "le deux mars".
    const day = time.day === 1 ? ['ordinal_1'] : sayNumber(time.day, 'fr');
    return ['received_on', weekday, ...day, month, ...year, ...clock];
  }
  return ['received_on', weekday, month, `ordinal_${time.day}`, ...year, ...clock];
}

export interface EnvelopeOptions {
  /** When the message was received (ms since the epoch). */
  receivedAt: number;
  /** The caller's number (E.164 or national); absent, anonymous or not a digit string: "numéro inconnu". */
  caller?: string | null;
  durationSeconds: number;
  timeZone?: string;
  now?: number;
}

/**
 * The message envelope: date and time, caller digit by digit, duration —
 * "reçu le … à …, de la part du zéro six …, durée deux minutes cinq secondes".
 */
export function sayEnvelope(envelope: EnvelopeOptions, language: SpeechLanguage): string[] {
  assertLanguage(language);
  const options: SayDateTimeOptions = envelope.now === undefined ? {} : { now: envelope.now };
  const caller = envelope.caller ?? '';
  return [
    ...sayDateTime(envelope.receivedAt, language, envelope.timeZone ?? 'Europe/Paris', options),
    ...(isSayableDigitString(caller) ? ['from', ...sayDigits(caller, language)] : ['unknown_number']),
    'duration',
    ...sayDuration(envelope.durationSeconds, language),
  ];
}
