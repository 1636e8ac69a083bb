/**
 * Where an Asterisk sound set (e.g. Debian's asterisk-core-sounds-fr-wav, installed under
 * /usr/share/asterisk/sounds/fr) keeps a recording with the same meaning as one of our prompts,
 * as a path relative to the language directory, without the `.wav` extension.
 *
 * Only word-for-word equivalents are listed: the same words, or words pronounced the same
 * ("quatre-vingt"/"quatre-vingts", "cent"/"cents"). Asterisk's sentences that differ from ours
 * (e.g. `vm-INBOX` is the adjective "nouveau" alone, `vm-message` lacks the "un" our `message_word` says)
 * are left out, so those prompts keep our voice.
 * The meanings hold for Asterisk's fr and en sets alike.
 */
export const ASTERISK_FILES: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(
    [...Array.from({ length: 21 }, (_, n) => n), 30, 40, 50, 60, 70, 90].map((n) => [`number_${n}`, `digits/${n}`]),
  ),
  number_80: 'digits/80',
  number_80_bare: 'digits/80',
  hundred: 'digits/hundred',
  hundreds: 'digits/hundred',
  thousand: 'digits/thousand',
  star: 'digits/star',
  pound: 'digits/pound',
  ...Object.fromEntries(
    [...Array.from({ length: 20 }, (_, i) => i + 1), 30].map((day) => [`ordinal_${day}`, `digits/h-${day}`]),
  ),
  // Asterisk numbers weekdays from Sunday (day-0) and months from January (mon-0).
  ...Object.fromEntries(
    ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((day, i) => [`weekday_${day}`, `digits/day-${i}`]),
  ),
  ...Object.fromEntries(
    ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'].map(
      (month, i) => [`month_${month}`, `digits/mon-${i}`],
    ),
  ),
  and: 'vm-and',
  you_have: 'vm-youhave',
  messages_word: 'vm-messages',
  none: 'vm-no',
  minutes: 'vm-minutes',
  folder_work: 'vm-Work',
  folder_family: 'vm-Family',
  folder_friends: 'vm-Friends',
  folder_urgent: 'vm-Urgent',
  goodbye: 'vm-goodbye',
  press: 'vm-press',
  greeting_unavailable: 'vm-isunavail',
  greeting_busy: 'vm-isonphone',
  mailbox_full: 'vm-mailboxfull',
  message_recorded: 'vm-msgsaved',
  message_too_short: 'vm-tooshort',
  message_deleted: 'vm-deleted',
  message_undeleted: 'vm-undeleted',
  no_more_messages: 'vm-nomore',
  pin_incorrect: 'vm-incorrect',
  enter_new_pin: 'vm-newpassword',
  confirm_new_pin: 'vm-reenterpassword',
  pins_do_not_match: 'vm-mismatch',
  pin_changed: 'vm-passchanged',
  record_name: 'vm-rec-name',
});
