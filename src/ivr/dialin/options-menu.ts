/**
 * Mailbox options (menus.ts; Asterisk's "0" menu and keys by default): 1 unavailable greeting, 2 busy greeting,
 * 3 name, 4 temporary greeting (1 record, 2 delete), 5 change the PIN, * or # back to the main menu.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { MenuAction } from '../../shared/dialin-keys.js';
import { beep } from '../../media/tones.js';
import type { GreetingKind } from '../../store/index.js';
import type { MailboxSession } from './mailbox-session.js';

/** What the caller is asked to record, and what is said once it is stored. */
const RECORDINGS: Readonly<Record<Exclude<GreetingKind, 'greet'>, { prompt: string; saved: string }>> = {
  unavail: { prompt: 'record_greeting', saved: 'greeting_saved' },
  busy: { prompt: 'record_greeting', saved: 'greeting_saved' },
  temp: { prompt: 'record_greeting', saved: 'greeting_saved' },
  name: { prompt: 'record_name', saved: 'name_saved' },
};

/** A PIN as the store accepts it: 4 to 10 digits. */
const PIN_PATTERN = /^\d{4,10}$/;

export class MailboxOptionsMenu {
  readonly #s: MailboxSession;

  constructor(session: MailboxSession) {
    this.#s = session;
  }

  /** Runs the options menu until the caller chooses "back". */
  async run(): Promise<void> {
    const { voice, menus } = this.#s;
    const actions: Record<MenuAction<'options'>, () => Promise<unknown>> = {
      recordUnavailable: () => this.#recordGreeting('unavail'),
      recordBusy: () => this.#recordGreeting('busy'),
      recordName: () => this.#recordGreeting('name'),
      temporaryGreeting: () => this.#temporaryGreeting(),
      changePin: () => this.#changePin(),
      back: async () => undefined,
    };
    let lead: string[][] = [];
    for (;;) {
      const action = await menus.options.choose(voice, lead);
      lead = [];
      if (action === 'back') return;
      if (action === undefined) lead = [['invalid_choice']];
      else await actions[action]();
    }
  }

  /** "Record" records the temporary greeting (and turns it on), "delete" deletes it (and turns it off). */
  async #temporaryGreeting(): Promise<void> {
    const { voice, store, line, logger, menus } = this.#s;
    const actions: Record<MenuAction<'temporaryGreeting'>, () => Promise<void>> = {
      record: async () => {
        if (await this.#recordGreeting('temp')) await store.lines.updateSettings(line.number, { temporaryGreetingActivated: true });
      },
      delete: async () => {
        const deleted = await store.greetings.delete(line.number, 'temp');
        await store.lines.updateSettings(line.number, { temporaryGreetingActivated: false });
        logger.info({ line: line.number, deleted }, 'dial-in: temporary greeting deleted');
        await voice.say([deleted ? 'greeting_deleted' : 'no_temporary_greeting']);
      },
      back: async () => undefined,
    };
    let lead: string[][] = [];
    for (;;) {
      const action = await menus.temporaryGreeting.choose(voice, lead);
      if (action !== undefined) return actions[action]();
      lead = [['invalid_choice']];
    }
  }

  /**
   * Prompt, beep, record until '#' (or silence, the maximum length, a hang-up), then store the greeting — also
   * when the caller hung up after speaking. True when a greeting was stored.
   */
  async #recordGreeting(kind: keyof typeof RECORDINGS): Promise<boolean> {
    const { voice, store, line, config, logger } = this.#s;
    const { prompt, saved } = RECORDINGS[kind];
    await voice.say([prompt]);
    voice.flushDigits();
    await voice.sayUninterrupted(beep());
    const spoolDir = path.join(config.storage.dir, 'spool');
    await mkdir(spoolDir, { recursive: true });
    const spoolPath = path.join(spoolDir, `dialin-${kind}-${randomUUID()}.wav`);
    try {
      const result = await voice.call.record({
        spoolPath,
        maxDurationMs: config.voicemail.maxMessageSeconds * 1000,
        silenceTimeoutMs: config.voicemail.silenceSeconds * 1000,
        stopDigits: '#',
      });
      if (result.durationMs < config.voicemail.minMessageSeconds * 1000 || result.samples.length === 0) {
        logger.info({ line: line.number, kind, durationMs: result.durationMs }, 'dial-in: greeting too short, not stored');
        if (result.end !== 'hangup') await voice.say(['message_too_short']);
        return false;
      }
      await store.greetings.put(line.number, kind, { wav: result.wav, durationMs: Math.round(result.durationMs) });
      logger.info({ line: line.number, kind, durationMs: result.durationMs, end: result.end }, 'dial-in: greeting recorded');
      if (result.end !== 'hangup') await voice.say([saved]);
      return true;
    } finally {
      await unlink(spoolPath).catch(() => undefined);
    }
  }

  /** The new PIN typed twice, 4 to 10 digits, both the same; stored hashed. */
  async #changePin(): Promise<void> {
    const { voice, store, line, logger } = this.#s;
    const first = await voice.enter(['enter_new_pin']);
    if (!PIN_PATTERN.test(first)) {
      voice.flushDigits();
      await voice.say(['pin_invalid']);
      return;
    }
    const second = await voice.enter(['confirm_new_pin']);
    if (second !== first) {
      voice.flushDigits();
      await voice.say(['pins_do_not_match']);
      return;
    }
    await store.lines.setPin(line.number, first);
    logger.info({ line: line.number }, 'dial-in: PIN changed');
    await voice.say(['pin_changed']);
  }
}
