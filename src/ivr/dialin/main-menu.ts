/**
 * The main menu of the mailbox (menus.ts; Asterisk's keys by default: 1 listen, 2 change folder, 0 mailbox options,
 * * help, # goodbye). It opens with the count announcement "Vous avez N nouveaux messages et M anciens messages".
 */
import type { MenuAction } from '../../shared/dialin-keys.js';
import type { Message } from '../../store/index.js';
import { sayFolderCount, sayFolderName, sayMessageCount, type MailboxFolder } from '../prompts/speech.js';
import { chooseFolder, type MailboxSession } from './mailbox-session.js';
import { MessageBrowser } from './message-browser.js';
import { MailboxOptionsMenu } from './options-menu.js';

/** What "listen" plays: the new messages then the old ones (the default), or one folder chosen with "change folder". */
type View = { kind: 'new-then-old' } | { kind: 'folder'; folder: MailboxFolder };

export class MailboxMainMenu {
  readonly #s: MailboxSession;
  #view: View = { kind: 'new-then-old' };

  constructor(session: MailboxSession) {
    this.#s = session;
  }

  /** Announces the counts and runs the menu until the caller chooses "goodbye". */
  async run(): Promise<void> {
    const { voice, menus } = this.#s;
    // What each action does; 'leave' ends the menu (the flow says goodbye).
    const actions: Record<MenuAction<'main'>, () => Promise<'stay' | 'leave'>> = {
      listen: async () => {
        await new MessageBrowser(this.#s, await this.#playlist()).browse();
        return 'stay';
      },
      changeFolder: async () => {
        await this.#changeFolder();
        return 'stay';
      },
      options: async () => {
        await new MailboxOptionsMenu(this.#s).run();
        return 'stay';
      },
      // Help: the main menu is said again.
      help: async () => 'stay',
      goodbye: async () => 'leave',
    };
    let lead: string[][] = [await this.#countAnnouncement()];
    for (;;) {
      const action = await menus.main.choose(voice, lead);
      lead = [];
      if (action === undefined) lead = [['invalid_choice']];
      else if ((await actions[action]()) === 'leave') return;
    }
  }

  /** New messages are those of the inbox and the urgent folder (both move to "old" once heard). */
  async #countAnnouncement(): Promise<string[]> {
    const { store, line, voice } = this.#s;
    const counts = await store.messages.countByDir(line.number);
    return sayMessageCount(counts.inbox + counts.urgent, counts.old, voice.language);
  }

  /** The messages "listen" plays, oldest first: urgent, then new, then old — or the chosen folder's. */
  async #playlist(): Promise<Message[]> {
    const { store, line } = this.#s;
    if (this.#view.kind === 'folder') return store.messages.list({ line: line.number, dir: this.#view.folder });
    const [urgent, inbox, old] = await Promise.all(
      (['urgent', 'inbox', 'old'] as const).map((dir) => store.messages.list({ line: line.number, dir })),
    );
    return [...urgent!, ...inbox!, ...old!];
  }

  /** "Change folder": the folder menu, then "Vous êtes dans le dossier travail. Vous avez trois messages dans le dossier travail". */
  async #changeFolder(): Promise<void> {
    const { voice, store, line } = this.#s;
    const folder = await chooseFolder(voice, this.#s.menus);
    if (folder === undefined) return;
    this.#view = { kind: 'folder', folder };
    const counts = await store.messages.countByDir(line.number);
    await voice.say(['you_are_in_folder', ...sayFolderName(folder)], sayFolderCount(counts[folder], folder, voice.language));
  }
}
