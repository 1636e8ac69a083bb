/**
 * What the menus of an authenticated dial-in call share: the mailbox, the voice, the store and the settings.
 */
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import type { Line, Store } from '../../store/index.js';
import { MAILBOX_FOLDERS, type MailboxFolder } from '../prompts/speech.js';
import type { DialInVoice } from './dialin-voice.js';

/** Wall-clock zone in which the envelope says when a message was received. */

export interface MailboxSession {
  readonly voice: DialInVoice;
  readonly store: Store;
  readonly config: Config;
  readonly logger: Logger;
  /** The authenticated mailbox. */
  readonly line: Line;
  readonly now: () => number;
}

/**
 * The folder menu (Asterisk's digits: 0 new, 1 old, 2 work, 3 family, 4 friends, 5 urgent): the folder chosen, or
 * undefined when the caller cancels with '#'. Another key says "choix invalide" and asks again.
 */
export async function chooseFolder(voice: DialInVoice): Promise<MailboxFolder | undefined> {
  let lead: string[][] = [['choose_folder']];
  for (;;) {
    const key = await voice.choose(['folder_menu'], lead);
    if (key === '#') return undefined;
    const folder = /^\d$/.test(key) ? MAILBOX_FOLDERS[Number(key)] : undefined;
    if (folder !== undefined) return folder;
    lead = [['invalid_choice']];
  }
}
