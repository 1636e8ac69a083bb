/**
 * What the dial-in menu says and hears: prompts played with barge-in, single-key menu choices and digit entries,
 * re-prompting on silence and giving up after {@link MAX_SILENT_TURNS} silent turns in a row.
 */
import type { Call } from '../call.js';
import type { PromptCatalog } from '../prompts/catalog.js';
import type { SpeechLanguage } from '../prompts/speech.js';

/** The caller hung up (or the call ended otherwise): the flow stops where it is. */
export class CallEndedError extends Error {
  override readonly name = 'CallEndedError';
  constructor() {
    super('the call ended');
  }
}

/** The caller stayed silent for {@link MAX_SILENT_TURNS} prompts in a row: the flow says goodbye and hangs up. */
export class SilentCallerError extends Error {
  override readonly name = 'SilentCallerError';
  constructor(turns: number) {
    super(`no input after ${turns} prompts`);
  }
}

/** Silent turns in a row after which the call is ended. */
export const MAX_SILENT_TURNS = 3;

/** Silence between the words of an assembled phrase. */
const WORD_GAP_MS = 60;

/** How long a menu waits for its key once the prompt has been said. */
const MENU_KEY_TIMEOUT_MS = 6000;

/** Digit entries (line number, PIN): wait for the first digit, then between digits. */
const ENTRY_FIRST_DIGIT_TIMEOUT_MS = 8000;
const ENTRY_INTER_DIGIT_TIMEOUT_MS = 5000;

/**
 * Longest digit entry read before the terminator. Longer than any PIN (10) or number (E.164: 15 + "00") so that
 * the '#' ending an over-long entry is consumed with it rather than left queued as the next menu key.
 */
const MAX_ENTRY_DIGITS = 24;

/** One thing to say: prompt ids joined into one phrase, or raw 8 kHz audio (a message, a beep). */
export type Utterance = readonly string[] | Int16Array;

export class DialInVoice {
  readonly #call: Call;
  readonly #prompts: PromptCatalog;
  #language: SpeechLanguage;
  #silentTurns = 0;

  constructor(call: Call, prompts: PromptCatalog, language: SpeechLanguage) {
    this.#call = call;
    this.#prompts = prompts;
    this.#language = language;
  }

  get language(): SpeechLanguage {
    return this.#language;
  }

  /** Switches the prompts to the mailbox's language once it is known. */
  set language(language: SpeechLanguage) {
    this.#language = language;
  }

  get call(): Call {
    return this.#call;
  }

  /**
   * Says the utterances in order, each with barge-in. Returns false as soon as a DTMF digit interrupts one
   * (the digit stays queued for the next menu or entry and the rest is not said); throws CallEndedError on hang-up.
   */
  async say(...utterances: Utterance[]): Promise<boolean> {
    for (const u of utterances) {
      if (!(u instanceof Int16Array) && u.length === 0) continue;
      const outcome = await this.#call.play(this.#pcm(u), { bargeIn: true });
      if (outcome === 'hangup') throw new CallEndedError();
      if (outcome === 'interrupted') return false;
    }
    return true;
  }

  /** Says one utterance without barge-in (the record beep, goodbye); digits typed meanwhile are dropped. */
  async sayUninterrupted(utterance: Utterance): Promise<void> {
    const outcome = await this.#call.play(this.#pcm(utterance));
    if (outcome === 'hangup') throw new CallEndedError();
    this.#call.flushDigits();
  }

  /**
   * A one-key menu: says `lead` (once) then `menu`, and waits for a key. Silence repeats `menu` after "no response";
   * the third silent turn in a row throws SilentCallerError.
   */
  async choose(menu: readonly string[], lead: Utterance[] = []): Promise<string> {
    let intro: Utterance[] = lead;
    for (;;) {
      if (await this.say(...intro)) await this.say(menu);
      const key = await this.#collect({ maxDigits: 1, firstDigitTimeoutMs: MENU_KEY_TIMEOUT_MS, interDigitTimeoutMs: MENU_KEY_TIMEOUT_MS });
      if (key !== '') return key;
      intro = [['no_response']];
    }
  }

  /**
   * A digit entry ended by '#' (line number, PIN): says `prompt` and reads up to {@link MAX_ENTRY_DIGITS} digits.
   * Silence repeats the prompt; the third silent turn in a row throws SilentCallerError. '*' and other keys are
   * returned as typed, for the caller to reject.
   */
  async enter(prompt: readonly string[]): Promise<string> {
    for (;;) {
      await this.say(prompt);
      const typed = await this.#collect({
        maxDigits: MAX_ENTRY_DIGITS,
        terminator: '#',
        firstDigitTimeoutMs: ENTRY_FIRST_DIGIT_TIMEOUT_MS,
        interDigitTimeoutMs: ENTRY_INTER_DIGIT_TIMEOUT_MS,
      });
      if (typed !== '') return typed;
      await this.say(['no_response']);
    }
  }

  /** Forgets digits typed ahead (before a recording, or after an error the caller must hear). */
  flushDigits(): void {
    this.#call.flushDigits();
  }

  /** The audio of an utterance; prompt ids are logged at debug level (what the caller is told, for diagnostics). */
  #pcm(utterance: Utterance): Int16Array {
    if (utterance instanceof Int16Array) return utterance;
    this.#call.logger.debug({ prompts: utterance, language: this.#language }, 'dial-in: saying');
    return this.#prompts.concat(this.#language, utterance, WORD_GAP_MS);
  }

  async #collect(opts: Parameters<Call['collect']>[0]): Promise<string> {
    const typed = await this.#call.collect(opts);
    if (typed === null) throw new CallEndedError();
    if (typed !== '') {
      this.#silentTurns = 0;
      return typed;
    }
    // A lone '#' ending an empty entry also reads as '': it counts as a silent turn too.
    this.#silentTurns++;
    if (this.#silentTurns >= MAX_SILENT_TURNS) throw new SilentCallerError(this.#silentTurns);
    return '';
  }
}
