/**
 * What a caller hears before the beep. The choice is pure ({@link chooseGreeting}, {@link systemPromptIds});
 * {@link DepositGreeting} fetches the subscriber's recordings from the store and assembles the audio.
 */
import type { Logger } from '../../shared/log.js';
import { concatPcm, silence } from '../../media/index.js';
import { decodeWav } from '../../shared/audio/wav.js';
import type { Store } from '../../store/index.js';
import type { GreetingKind, Line, VoicemailSettings } from '../../store/index.js';
import type { PromptCatalog } from '../prompts/catalog.js';
import { isSayableDigitString, sayDigits, type SpeechLanguage } from '../prompts/speech.js';
import { toNational } from '../../shared/e164.js';
import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';

/** Silence between the subscriber's recording and system prompts, and between prompts. */
export const GREETING_GAP_MS = 150;

/** How the greeting is made up. */
export type GreetingPlan =
  /** The subscriber's own greeting of that kind, alone. */
  | { source: 'recorded'; kind: 'temp' | 'unavail' | 'busy' }
  /** The subscriber's name recording followed by system text ("… is not available, leave a message …"). */
  | { source: 'name' }
  /** The system greeting speaking the line's number digit by digit. */
  | { source: 'system' };

/**
 * Picks the greeting of a deposit. An active temporary greeting (setting on and a `temp` recording stored) wins
 * whatever `greetingType` says. Otherwise `full` plays the subscriber's `busy` recording when the call was
 * forwarded on busy and one exists, else the `unavail` one; `short` plays the `name` recording plus system text;
 * `default` — or a type whose recording is missing — plays the system greeting.
 */
export function chooseGreeting(
  settings: Pick<VoicemailSettings, 'greetingType' | 'temporaryGreetingActivated'>,
  recorded: ReadonlySet<GreetingKind>,
  busy: boolean,
): GreetingPlan {
  if (settings.temporaryGreetingActivated && recorded.has('temp')) return { source: 'recorded', kind: 'temp' };
  switch (settings.greetingType) {
    case 'full':
      if (busy && recorded.has('busy')) return { source: 'recorded', kind: 'busy' };
      if (recorded.has('unavail')) return { source: 'recorded', kind: 'unavail' };
      return { source: 'system' };
    case 'short':
      return recorded.has('name') ? { source: 'name' } : { source: 'system' };
    case 'default':
      return { source: 'system' };
  }
}

export interface SystemPromptOptions {
  language: SpeechLanguage;
  /** The line's number as the caller dialled it (national form for the line's country), e.g. "0912345678". */
  spokenNumber: string;
  busy: boolean;
  /** The mailbox takes no messages: say so instead of inviting the caller to speak after the beep. */
  doNotRecord: boolean;
}

/**
 * The catalogue prompts spoken around (or instead of) the subscriber's recording, in order:
 * - system: "Vous êtes bien sur la messagerie du 0 9 1 2 3 4 5 6 7 8. [Votre correspondant est déjà en ligne.]
 *   Veuillez laisser votre message après le bip, puis raccrochez ou appuyez sur dièse."
 * - name: "<name> n'est pas disponible pour le moment | est déjà en ligne. Veuillez laisser …"
 * - recorded: nothing (the subscriber's recording says it all).
 * With `doNotRecord` the invitation to speak is replaced by "Ce correspondant ne peut pas prendre de message.
 * Au revoir." — after a subscriber's own recording too, since the caller would otherwise wait for a beep.
 */
export function systemPromptIds(plan: GreetingPlan, o: SystemPromptOptions): string[] {
  const closing = o.doNotRecord ? ['cannot_take_message', 'goodbye'] : ['greeting_leave_message', 'greeting_then_hang_up'];
  switch (plan.source) {
    case 'recorded':
      return o.doNotRecord ? closing : [];
    case 'name':
      return [o.busy ? 'greeting_busy' : 'greeting_unavailable', ...closing];
    case 'system': {
      const digits = isSayableDigitString(o.spokenNumber) ? sayDigits(o.spokenNumber, o.language) : [];
      const busy = o.busy ? ['greeting_your_correspondent', 'greeting_busy'] : [];
      return ['greeting_mailbox_of', ...digits, ...busy, ...closing];
    }
  }
}

/** The greeting to play: its audio and what it was made of (for the logs). */
export interface ComposedGreeting {
  plan: GreetingPlan;
  promptIds: string[];
  /** The audio as shared arrays played back to back (no per-call copy: give this to `Call.play`). */
  segments: Int16Array[];
  /** The same audio in one new array (made when read: for tests and diagnostics). */
  readonly samples: Int16Array;
}

export interface DepositGreetingOptions {
  store: Store;
  prompts: PromptCatalog;
  line: Line;
  language: SpeechLanguage;
  countryCode: string;
  busy: boolean;
  logger: Logger;
}

/** Assembles the greeting of one deposit from the store's recordings and the prompt catalogue. */
export class DepositGreeting {
  readonly #o: DepositGreetingOptions;

  constructor(options: DepositGreetingOptions) {
    this.#o = options;
  }

  /**
   * The greeting audio. A stored recording that cannot be decoded or is not 8 kHz is logged and replaced by the
   * system greeting, so that a bad upload never leaves the caller in silence.
   */
  async compose(doNotRecord: boolean): Promise<ComposedGreeting> {
    const { store, line, busy } = this.#o;
    const recorded = new Set((await store.greetings.list(line.number)).map((g) => g.kind));
    let plan = chooseGreeting(line.settings, recorded, busy);
    let own: Int16Array | undefined;
    if (plan.source !== 'system') {
      own = await this.#recording(plan.source === 'name' ? 'name' : plan.kind);
      if (own === undefined) plan = { source: 'system' };
    }
    return this.#assemble(plan, own, doNotRecord);
  }

  #assemble(plan: GreetingPlan, own: Int16Array | undefined, doNotRecord: boolean): ComposedGreeting {
    const { prompts, language, line, countryCode, busy } = this.#o;
    const promptIds = systemPromptIds(plan, { language, spokenNumber: toNational(line.number, countryCode), busy, doNotRecord });
    const parts: Int16Array[] = [];
    if (own !== undefined) parts.push(own);
    if (promptIds.length > 0) {
      if (own !== undefined) parts.push(silence(GREETING_GAP_MS));
      parts.push(...prompts.segments(language, promptIds, GREETING_GAP_MS));
    }
    return {
      plan,
      promptIds,
      segments: parts,
      get samples() {
        return concatPcm(parts);
      },
    };
  }

  async #recording(kind: GreetingKind): Promise<Int16Array | undefined> {
    const { store, line, logger } = this.#o;
    const greeting = await store.greetings.get(line.number, kind);
    if (greeting === undefined) return undefined;
    try {
      const wav = decodeWav(greeting.wav);
      if (wav.sampleRate !== SAMPLE_RATE) {
        logger.warn({ kind, sampleRate: wav.sampleRate }, 'stored greeting is not 8 kHz: playing the system greeting');
        return undefined;
      }
      return wav.samples;
    } catch (err) {
      logger.warn({ kind, err: (err as Error).message }, 'stored greeting cannot be decoded: playing the system greeting');
      return undefined;
    }
  }
}
