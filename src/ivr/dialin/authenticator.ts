/**
 * Who is calling the dial-in number: the mailbox of the caller's own line when it does not force a password,
 * otherwise the line number and PIN typed on the keypad — three tries per call, with a lockout across calls.
 */
import type { Logger } from '../../shared/log.js';
import { normalizeE164, type Line, type LockoutPolicy, type Store } from '../../store/index.js';
import { toE164 } from '../../shared/e164.js';
import type { DialInVoice } from './dialin-voice.js';

/** PIN tries allowed in one call. */
export const MAX_PIN_TRIES = 3;

export type AuthOutcome =
  | { kind: 'authenticated'; line: Line; by: 'caller-id' | 'pin' }
  /** The caller has been told why (wrong PIN three times, or locked out); the flow says goodbye and hangs up. */
  | { kind: 'refused'; reason: 'too-many-tries' | 'locked' };

export interface DialInAuthenticatorOptions {
  voice: DialInVoice;
  store: Store;
  logger: Logger;
  policy: LockoutPolicy;
  countryCode: string;
  now: () => number;
  caller?: string;
  remote?: string;
  /** Called on each wrong line number or PIN (metrics). */
  onWrongPin?: () => void;
}

export class DialInAuthenticator {
  readonly #o: DialInAuthenticatorOptions;

  constructor(options: DialInAuthenticatorOptions) {
    this.#o = options;
  }

  async authenticate(): Promise<AuthOutcome> {
    const own = await this.#callerLine();
    if (own && !own.settings.forcePassword) {
      this.#o.logger.info({ line: own.number }, 'dial-in: mailbox chosen by caller ID, no PIN asked');
      return { kind: 'authenticated', line: own, by: 'caller-id' };
    }
    const { voice } = this.#o;
    let lead: readonly string[] = ['dialin_welcome'];
    for (let tries = 1; ; tries++) {
      await voice.say(lead);
      const typedLine = await voice.enter(['enter_mailbox']);
      const number = this.#lineNumber(typedLine);
      if (number !== undefined && (await this.#refuseIfLocked(number))) return { kind: 'refused', reason: 'locked' };
      const pin = await voice.enter(['enter_pin']);
      // The lock is checked again when the PIN is checked, atomically with reserving the attempt: callers parked
      // at the PIN prompt while the line got locked are refused, and at most maxFailures PINs are ever checked.
      if (number !== undefined) {
        const slot = await this.#o.store.authFailures.reserveAttempt(
          { line: number, source: 'dialin', remote: this.#o.remote ?? null, at: this.#o.now() },
          this.#o.policy,
        );
        if (slot.kind === 'locked') {
          await this.#sayLocked(number, slot.until);
          return { kind: 'refused', reason: 'locked' };
        }
      }
      const line = await this.#verify(number, pin);
      if (line) {
        await this.#o.store.authFailures.clear(line.number);
        this.#o.logger.info({ line: line.number, remote: this.#o.remote }, 'dial-in: PIN accepted');
        return { kind: 'authenticated', line, by: 'pin' };
      }
      if (number !== undefined && (await this.#refuseIfLocked(number))) return { kind: 'refused', reason: 'locked' };
      this.#o.logger.info({ line: number ?? typedLine, remote: this.#o.remote, tries }, 'dial-in: wrong line number or PIN');
      this.#o.onWrongPin?.();
      voice.flushDigits();
      if (tries >= MAX_PIN_TRIES) {
        await voice.say(['pin_incorrect', 'too_many_attempts']);
        return { kind: 'refused', reason: 'too-many-tries' };
      }
      lead = ['pin_incorrect'];
    }
  }

  /** The caller's own line when the caller ID is a voicemail-routed line. */
  async #callerLine(): Promise<Line | undefined> {
    const number = this.#o.caller === undefined ? undefined : this.#lineNumber(this.#o.caller);
    if (number === undefined) return undefined;
    const line = await this.#o.store.lines.find(number);
    return line?.routing === 'voicemail' ? line : undefined;
  }

  /** A typed or presented number (national 09…, 0033…, +33…) in E.164, or undefined when it cannot be a line. */
  #lineNumber(raw: string): string | undefined {
    if (!/^\+?\d{3,20}$/.test(raw)) return undefined;
    const e164 = toE164(raw, this.#o.countryCode);
    return e164 === undefined ? undefined : normalizeE164(e164);
  }

  /**
   * The line when `pin` is its PIN. An unknown number, a fax-routed line or a line without PIN fails exactly
   * like a wrong PIN, after the same scrypt work, so that the keypad does not reveal which lines exist.
   */
  async #verify(number: string | undefined, pin: string): Promise<Line | undefined> {
    return this.#o.store.lines.checkPin(number, pin, { voicemailOnly: true });
  }

  /** Says "temporarily locked" and logs it at warn level when the line is locked now. */
  async #refuseIfLocked(number: string): Promise<boolean> {
    const now = this.#o.now();
    const until = await this.#o.store.authFailures.lockedUntil(number, now, this.#o.policy);
    if (until === null) return false;
    await this.#sayLocked(number, until);
    return true;
  }

  /** The "access locked" notice, played whole: keys typed during it neither cut it nor carry over. */
  async #sayLocked(number: string, until: number): Promise<void> {
    this.#o.logger.warn(
      { line: number, remote: this.#o.remote, source: 'dialin', lockedUntil: new Date(until).toISOString(), policy: this.#o.policy },
      'dial-in: PIN entry locked after repeated failures',
    );
    this.#o.voice.flushDigits();
    await this.#o.voice.sayUninterrupted(['access_locked']);
    this.#o.voice.flushDigits();
  }
}
