/**
 * Listening to the messages of a folder, one after another, with the message menu (menus.ts; Asterisk's keys by
 * default: 5 repeat, 4 previous, 6 next, 7 delete, 9 save to a folder, 3 envelope, # back to the main menu, * help).
 * A key typed while a message plays stops it and is the menu's answer.
 */
import type { MenuAction } from '../../shared/dialin-keys.js';
import { decodeWav } from '../../shared/audio/wav.js';
import { NotFoundError, type Message } from '../../store/index.js';
import { toNational } from '../../shared/e164.js';
import { sayEnvelope, sayFolderName, sayMessageNumber } from '../prompts/speech.js';
import { chooseFolder, type MailboxSession } from './mailbox-session.js';
import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';

export class MessageBrowser {
  readonly #s: MailboxSession;
  readonly #messages: Message[];
  #index = 0;

  /** `messages`: the playlist, in the order they are to be heard (a snapshot taken when listening starts). */
  constructor(session: MailboxSession, messages: readonly Message[]) {
    this.#s = session;
    this.#messages = [...messages];
  }

  /** Plays the messages and runs the message menu until the caller goes back to the main menu. */
  async browse(): Promise<void> {
    const { voice, menus } = this.#s;
    // What each action does, then: play the (new) current message, stay in the menu, or leave to the main menu.
    const actions: Record<MenuAction<'message'>, () => Promise<'play' | 'stay' | 'leave'>> = {
      repeat: async () => 'play',
      previous: async () => {
        if (this.#index === 0) {
          await voice.say(['no_previous_message']);
          return 'stay';
        }
        this.#index--;
        return 'play';
      },
      next: async () => {
        if (this.#index === this.#messages.length - 1) {
          await voice.say(['no_more_messages']);
          return 'stay';
        }
        this.#index++;
        return 'play';
      },
      delete: async () => {
        await this.#deleteCurrent();
        return (await this.#afterRemoval()) ? 'play' : 'leave';
      },
      save: async () => {
        if (!(await this.#saveCurrent())) return 'stay';
        return (await this.#advance()) ? 'play' : 'leave';
      },
      envelope: async () => {
        await this.#sayEnvelope();
        return 'stay';
      },
      back: async () => 'leave',
      // Help: the message menu is said again.
      help: async () => 'stay',
    };
    if (this.#messages.length === 0) {
      await voice.say(['folder_empty']);
      return;
    }
    let play = true;
    for (;;) {
      if (play && !(await this.#playCurrent())) {
        // The message vanished meanwhile (deleted from the web manager, or by retention).
        if (!(await this.#afterRemoval())) return;
        continue;
      }
      play = false;
      const action = await menus.message.choose(voice);
      if (action === undefined) {
        await voice.say(['invalid_choice']);
        continue;
      }
      const next = await actions[action]();
      if (next === 'leave') return;
      play = next === 'play';
    }
  }

  get #current(): Message {
    return this.#messages[this.#index]!;
  }

  /**
   * Says which message this is, plays it and marks it heard (inbox → old) as soon as it has been played, even
   * when a key cut it short. False when the message no longer exists (it is then dropped from the playlist).
   */
  async #playCurrent(): Promise<boolean> {
    const { voice, store, logger } = this.#s;
    const message = this.#current;
    let samples: Int16Array;
    try {
      const wav = decodeWav(await store.messages.getAudio(message.id));
      if (wav.sampleRate !== SAMPLE_RATE) logger.warn({ messageId: message.id, sampleRate: wav.sampleRate }, 'dial-in: message is not 8 kHz audio');
      samples = wav.samples;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      this.#messages.splice(this.#index, 1);
      return false;
    }
    const last = this.#messages.length - 1;
    const which =
      this.#index === 0 ? ['first_message'] : this.#index === last ? ['last_message'] : sayMessageNumber(this.#index + 1, voice.language);
    const urgent = message.dir === 'urgent' ? ['urgent_message'] : [];
    if (!(await voice.say([...which, ...urgent]))) return true;
    await voice.say(samples);
    try {
      this.#messages[this.#index] = await store.messages.markHeard(message.id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    return true;
  }

  /** After the current message left the playlist: the next one, or "no more messages" and false at the end. */
  async #afterRemoval(): Promise<boolean> {
    if (this.#index < this.#messages.length) return true;
    if (this.#messages.length > 0) this.#index = this.#messages.length - 1;
    await this.#s.voice.say(['no_more_messages']);
    return false;
  }

  /** Moves on to the next message, or says "no more messages" and returns false after the last. */
  async #advance(): Promise<boolean> {
    if (this.#index < this.#messages.length - 1) {
      this.#index++;
      return true;
    }
    await this.#s.voice.say(['no_more_messages']);
    return false;
  }

  /** Deletes the message at once (committed before anything else is said: a hang-up keeps it deleted). */
  async #deleteCurrent(): Promise<void> {
    const { store, voice, logger, line } = this.#s;
    const message = this.#current;
    try {
      await store.messages.delete(message.id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.#messages.splice(this.#index, 1);
    logger.info({ line: line.number, messageId: message.id }, 'dial-in: message deleted');
    await voice.say(['message_deleted']);
  }

  /** Asks for a folder and moves the message there; false when the caller cancelled. */
  async #saveCurrent(): Promise<boolean> {
    const { store, voice, logger, line } = this.#s;
    const folder = await chooseFolder(voice, this.#s.menus);
    if (folder === undefined) return false;
    const message = this.#current;
    try {
      this.#messages[this.#index] = await store.messages.move(message.id, folder);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    logger.info({ line: line.number, messageId: message.id, folder }, 'dial-in: message saved to folder');
    await voice.say(['message_saved_to_folder', ...sayFolderName(folder)]);
    return true;
  }

  /** "Reçu le mardi vingt-quatre novembre à quatorze heures trente-deux, de la part du zéro six …, durée …". */
  async #sayEnvelope(): Promise<void> {
    const { voice, config, now } = this.#s;
    const m = this.#current;
    await voice.say(
      sayEnvelope(
        {
          receivedAt: m.creationDatetime,
          caller: toNational(m.caller, config.voicemail.countryCode),
          durationSeconds: m.durationMs / 1000,
          timeZone: config.voicemail.timeZone,
          now: now(),
        },
        voice.language,
      ),
    );
  }
}
