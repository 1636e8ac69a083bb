/**
 * The keys of the dial-in menus, as the operator may set them (`dialin.keys.<menu>.<action>` in the configuration,
 * like FreeSWITCH mod_voicemail's `*-key` parameters). Each value is one or more DTMF keys, one character each
 * ("*#": either key); the first is the one the spoken menu announces. The defaults, in config/default.json, are
 * Asterisk's VoiceMailMain keys. What each action does, and the words that announce it, are in
 * src/ivr/dialin/menus.ts.
 */
import { z } from 'zod';

/** The keys a telephone keypad sends (RFC 4733 events 0-11); A-D are left out, few phones have them. */
export const DTMF_KEYS = '0123456789*#';

/** The actions of each menu, in the order the menu announces them. */
export const MENU_ACTIONS = {
  main: ['listen', 'changeFolder', 'options', 'help', 'goodbye'],
  message: ['repeat', 'previous', 'next', 'delete', 'save', 'envelope', 'back', 'help'],
  options: ['recordUnavailable', 'recordBusy', 'recordName', 'temporaryGreeting', 'changePin', 'back'],
  temporaryGreeting: ['record', 'delete', 'back'],
  folder: ['inbox', 'old', 'work', 'family', 'friends', 'urgent', 'cancel'],
} as const;

export type MenuName = keyof typeof MENU_ACTIONS;
export type MenuAction<M extends MenuName> = (typeof MENU_ACTIONS)[M][number];
export const MENU_NAMES = Object.keys(MENU_ACTIONS) as MenuName[];

/** One action's keys: one or more of 0-9 * #, each at most once. */
const KeysSchema = z
  .string()
  .regex(/^[0-9*#]+$/, 'must be one or more of the keys 0-9 * # (e.g. "1", or "*#" for either)')
  .refine((keys) => new Set(keys).size === keys.length, 'names a key twice');

function menuKeysSchema<M extends MenuName>(menu: M) {
  const actions = MENU_ACTIONS[menu] as readonly string[];
  const shape = Object.fromEntries(actions.map((action) => [action, KeysSchema])) as Record<MenuAction<M>, typeof KeysSchema>;
  return z
    .object(shape)
    .strict()
    .superRefine((keys, ctx) => {
      // One key, one action: a menu cannot hear "1" as both "listen" and "options".
      const owner = new Map<string, string>();
      for (const action of actions) {
        for (const key of (keys as Record<string, string>)[action] ?? '') {
          const other = owner.get(key);
          if (other === undefined) owner.set(key, action);
          else ctx.addIssue({ code: 'custom', path: [action], message: `key "${key}" already chooses "${other}" in the ${menu} menu` });
        }
      }
    });
}

export const DialInKeysSchema = z
  .object({
    main: menuKeysSchema('main'),
    message: menuKeysSchema('message'),
    options: menuKeysSchema('options'),
    temporaryGreeting: menuKeysSchema('temporaryGreeting'),
    folder: menuKeysSchema('folder'),
  })
  .strict();

/** Every menu's keys: `keys.main.listen === '1'`. */
export type DialInKeys = { [M in MenuName]: Record<MenuAction<M>, string> };
