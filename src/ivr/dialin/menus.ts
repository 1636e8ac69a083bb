/**
 * The dial-in menus as data: for each menu, its actions (key → prompt → action) with Asterisk's keys as defaults,
 * the words announcing each action, and what docs/dialin-menu.md says about it. The keys may be changed by the
 * operator (`dialin.keys`, src/shared/dialin-keys.ts); the flows (main-menu.ts, message-browser.ts,
 * options-menu.ts, mailbox-session.ts) ask {@link DialInMenu.choose} for an action and run its handler.
 * docs/dialin-menu.md's key tables are generated from these specs (`npm run docs:menus`, menu-docs.ts).
 *
 * What is announced: each menu has one recording naming the default keys (`main_menu`: "Pour écouter vos messages,
 * appuyez sur 1. …"). It is played while the announced key of every action is the default one; once the operator
 * changes one, the menu is assembled from words instead: the action's phrase, "appuyez sur", the key's name.
 */
import { MENU_ACTIONS, type DialInKeys, type MenuAction, type MenuName } from '../../shared/dialin-keys.js';
import type { DialInVoice, Utterance } from './dialin-voice.js';

export interface MenuItemSpec {
  /** Asterisk's keys for this action (config/default.json holds the same); the first is announced. */
  readonly keys: string;
  /** The phrase announcing the action, before "appuyez sur <key>"; none: the action works but is not announced. */
  readonly announce?: readonly string[];
  /** What the action does, for the docs (Markdown). */
  readonly doc: string;
}

export interface MenuSpec<M extends MenuName> {
  readonly name: M;
  /** The one-piece recording announcing the default keys, in the order of {@link MENU_ACTIONS}. */
  readonly recording: string;
  readonly items: { readonly [A in MenuAction<M>]: MenuItemSpec };
}

export const MAIN_MENU: MenuSpec<'main'> = {
  name: 'main',
  recording: 'main_menu',
  items: {
    listen: {
      keys: '1',
      announce: ['menu_listen'],
      doc: 'Listen: the new messages (urgent first), then the old ones, oldest first — or the folder chosen with *change folder*',
    },
    changeFolder: {
      keys: '2',
      announce: ['menu_change_folder'],
      doc: "Change folder, then the folder's key (folder menu); *cancel* goes back. Says the folder and its message count",
    },
    options: { keys: '0', announce: ['menu_options'], doc: 'Mailbox options' },
    help: { keys: '*', announce: ['menu_repeat'], doc: 'Help: the menu again' },
    goodbye: { keys: '#', announce: ['menu_exit'], doc: 'Goodbye, the server hangs up' },
  },
};

export const MESSAGE_MENU: MenuSpec<'message'> = {
  name: 'message',
  recording: 'message_menu',
  items: {
    repeat: { keys: '5', announce: ['menu_repeat_message'], doc: 'Play the message again' },
    previous: { keys: '4', announce: ['menu_previous_message'], doc: 'Previous message ("Il n\'y a pas de message précédent" on the first)' },
    next: { keys: '6', announce: ['menu_next_message'], doc: 'Next message ("Il n\'y a pas d\'autre message" on the last)' },
    delete: { keys: '7', announce: ['menu_delete_message'], doc: 'Delete the message at once (stored before anything else is said), then the next one' },
    save: { keys: '9', announce: ['menu_save_message'], doc: "Save to a folder: then the folder's key (*cancel* goes back); then the next message" },
    envelope: {
      keys: '3',
      announce: ['menu_envelope'],
      doc: 'Envelope: "reçu le mardi vingt-quatre novembre à quatorze heures trente-deux, de la part du zéro six …, durée …" (`voicemail.timeZone`)',
    },
    back: { keys: '#', announce: ['menu_back_to_main'], doc: 'Back to the main menu' },
    help: { keys: '*', doc: 'Help: the message menu again' },
  },
};

export const OPTIONS_MENU: MenuSpec<'options'> = {
  name: 'options',
  recording: 'options_menu',
  items: {
    recordUnavailable: { keys: '1', announce: ['menu_record_unavailable'], doc: 'Record the unavailable greeting' },
    recordBusy: { keys: '2', announce: ['menu_record_busy'], doc: 'Record the busy greeting' },
    recordName: { keys: '3', announce: ['menu_record_name'], doc: 'Record your name' },
    temporaryGreeting: { keys: '4', announce: ['menu_temporary_greeting'], doc: 'Temporary greeting (its menu below)' },
    changePin: { keys: '5', announce: ['menu_change_pin'], doc: 'Change the PIN: typed twice, each followed by `#`; 4 to 10 digits, both the same' },
    back: { keys: '*#', announce: ['menu_back_to_main'], doc: 'Back to the main menu' },
  },
};

export const TEMPORARY_GREETING_MENU: MenuSpec<'temporaryGreeting'> = {
  name: 'temporaryGreeting',
  recording: 'temporary_greeting_menu',
  items: {
    record: { keys: '1', announce: ['menu_record_temporary'], doc: 'Record the temporary greeting (and turn it on)' },
    delete: { keys: '2', announce: ['menu_delete_temporary'], doc: 'Delete it (and turn it off)' },
    back: { keys: '*#', announce: ['menu_go_back'], doc: 'Back to the options' },
  },
};

/** Asterisk's folder digits: 0 new (INBOX), 1 old, 2 work, 3 family, 4 friends, 5 urgent. */
export const FOLDER_MENU: MenuSpec<'folder'> = {
  name: 'folder',
  recording: 'folder_menu',
  items: {
    inbox: { keys: '0', announce: ['for_folder', 'folder_inbox'], doc: 'New messages (inbox)' },
    old: { keys: '1', announce: ['for_folder', 'folder_old'], doc: 'Old messages' },
    work: { keys: '2', announce: ['for_folder', 'folder_work'], doc: 'Work' },
    family: { keys: '3', announce: ['for_folder', 'folder_family'], doc: 'Family' },
    friends: { keys: '4', announce: ['for_folder', 'folder_friends'], doc: 'Friends' },
    urgent: { keys: '5', announce: ['for_folder', 'folder_urgent'], doc: 'Urgent' },
    cancel: { keys: '#', announce: ['menu_cancel'], doc: 'Cancel' },
  },
};

export const MENU_SPECS: { readonly [M in MenuName]: MenuSpec<M> } = {
  main: MAIN_MENU,
  message: MESSAGE_MENU,
  options: OPTIONS_MENU,
  temporaryGreeting: TEMPORARY_GREETING_MENU,
  folder: FOLDER_MENU,
};

/** Each menu's Asterisk keys, as config/default.json has them under `dialin.keys`. */
export function defaultKeys(): DialInKeys {
  const keysOf = <M extends MenuName>(menu: M): Record<MenuAction<M>, string> =>
    Object.fromEntries(actionsOf(menu).map((action) => [action, MENU_SPECS[menu].items[action].keys])) as Record<MenuAction<M>, string>;
  return { main: keysOf('main'), message: keysOf('message'), options: keysOf('options'), temporaryGreeting: keysOf('temporaryGreeting'), folder: keysOf('folder') };
}

/** A menu's actions in announcement order. */
export function actionsOf<M extends MenuName>(menu: M): readonly MenuAction<M>[] {
  return MENU_ACTIONS[menu] as readonly MenuAction<M>[];
}

/** The prompt naming a key: number_0 … number_9, star, pound. */
export function keyPrompt(key: string): string {
  if (key === '*') return 'star';
  if (key === '#') return 'pound';
  if (/^[0-9]$/.test(key)) return `number_${key}`;
  throw new RangeError(`"${key}" is not a DTMF key (0-9 * #)`);
}

/** One menu with the keys the operator configured. */
export class DialInMenu<M extends MenuName> {
  readonly spec: MenuSpec<M>;
  readonly #keys: Readonly<Record<MenuAction<M>, string>>;
  readonly #byKey = new Map<string, MenuAction<M>>();

  /** `keys`: validated by the configuration schema (one action per key). */
  constructor(spec: MenuSpec<M>, keys: Readonly<Record<MenuAction<M>, string>>) {
    this.spec = spec;
    this.#keys = keys;
    for (const action of actionsOf(spec.name)) {
      const bound = keys[action];
      if (bound.length === 0) throw new RangeError(`${spec.name} menu: no key for "${action}"`);
      for (const key of bound) {
        const other = this.#byKey.get(key);
        if (other !== undefined) throw new RangeError(`${spec.name} menu: key "${key}" chooses both "${other}" and "${action}"`);
        this.#byKey.set(key, action);
      }
    }
  }

  /** The action a key chooses, or undefined when the key chooses nothing in this menu. */
  actionFor(key: string): MenuAction<M> | undefined {
    return this.#byKey.get(key);
  }

  /** The keys of an action; the first is the one announced. */
  keysOf(action: MenuAction<M>): string {
    return this.#keys[action];
  }

  /** Whether the one-piece recording tells the truth: every announced action keeps its default announced key. */
  get announcesDefaultKeys(): boolean {
    return actionsOf(this.spec.name).every((action) => {
      const item: MenuItemSpec = this.spec.items[action];
      return item.announce === undefined || this.#keys[action][0] === item.keys[0];
    });
  }

  /** What announces the menu: the recording, or "<phrase> appuyez sur <key>" per announced action. */
  get prompt(): string[] {
    if (this.announcesDefaultKeys) return [this.spec.recording];
    return actionsOf(this.spec.name).flatMap((action) => {
      const item: MenuItemSpec = this.spec.items[action];
      return item.announce === undefined ? [] : [...item.announce, 'press', keyPrompt(this.#keys[action][0]!)];
    });
  }

  /**
   * Says `lead` then the menu and waits for one key (see {@link DialInVoice.choose}): the action it chooses, or
   * undefined for a key this menu does not use (the caller then says "choix invalide").
   */
  async choose(voice: DialInVoice, lead: Utterance[] = []): Promise<MenuAction<M> | undefined> {
    return this.actionFor(await voice.choose(this.prompt, lead));
  }
}

/** The five menus of a dial-in call. */
export type DialInMenus = { readonly [M in MenuName]: DialInMenu<M> };

export function dialInMenus(keys: DialInKeys): DialInMenus {
  return {
    main: new DialInMenu(MAIN_MENU, keys.main),
    message: new DialInMenu(MESSAGE_MENU, keys.message),
    options: new DialInMenu(OPTIONS_MENU, keys.options),
    temporaryGreeting: new DialInMenu(TEMPORARY_GREETING_MENU, keys.temporaryGreeting),
    folder: new DialInMenu(FOLDER_MENU, keys.folder),
  };
}
