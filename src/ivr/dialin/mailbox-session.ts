/**
 * What the menus of an authenticated dial-in call share: the mailbox, the voice, the store and the settings.
 */
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import type { Line, Store } from '../../store/index.js';
import type { MailboxFolder } from '../prompts/speech.js';
import type { DialInVoice } from './dialin-voice.js';
import type { DialInMenus } from './menus.js';

export interface MailboxSession {
  readonly voice: DialInVoice;
  readonly store: Store;
  readonly config: Config;
  readonly logger: Logger;
  /** The authenticated mailbox. */
  readonly line: Line;
  readonly now: () => number;
  /** The menus with the operator's keys (`dialin.keys`). */
  readonly menus: DialInMenus;
}

/**
 * The folder menu (Asterisk's keys by default: 0 new, 1 old, 2 work, 3 family, 4 friends, 5 urgent, # cancel): the
 * folder chosen, or undefined when the caller cancels. Another key says "choix invalide" and asks again.
 */
export async function chooseFolder(voice: DialInVoice, menus: DialInMenus): Promise<MailboxFolder | undefined> {
  let lead: string[][] = [['choose_folder']];
  for (;;) {
    const action = await menus.folder.choose(voice, lead);
    if (action === 'cancel') return undefined;
    if (action !== undefined) return action;
    lead = [['invalid_choice']];
  }
}
