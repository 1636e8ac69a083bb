/**
 * Which flow an incoming INVITE is for, from the request and the store alone (no answer is sent here): the dial-in
 * menu, a deposit into a voicemail-routed line, a redirect (302) or a refusal (480) for a fax-routed line, or 404
 * for a number we do not serve. The router acts on the decision; the media set-up is call-media.ts.
 */
import type { Config } from '../shared/config.js';
import type { SipRequest } from '../sip/message.js';
import type { Line, Store } from '../store/index.js';
import { isBusyReason, resolveCallTarget, type TargetLookup } from './call-target.js';
import { toE164 } from '../shared/e164.js';

export type CallClass =
  /** The dial-in number: the mailbox menu. */
  | { kind: 'dialin' }
  /** A line in voicemail routing: leave a message; `busy` when forwarded because the subscriber was busy. */
  | { kind: 'deposit'; line: Line; busy: boolean }
  /** A line in fax routing with `voicemail.faxDestination` set: 302 to it. */
  | { kind: 'fax-redirect'; line: string; to: string }
  /** A line in fax routing and no fax destination: 480. */
  | { kind: 'fax-unavailable'; line: string }
  /** No line and no dial-in number: 404. */
  | { kind: 'unknown' };

export interface CallClassifierDeps {
  store: Pick<Store, 'lines'>;
  config: Pick<Config, 'voicemail'>;
}

/** Classifies INVITEs: see {@link CallClass}. */
export class CallClassifier {
  readonly #store: Pick<Store, 'lines'>;
  readonly #faxDestination: string;
  readonly #lookup: TargetLookup;

  constructor(deps: CallClassifierDeps) {
    const { voicemail } = deps.config;
    const cc = voicemail.countryCode;
    this.#store = deps.store;
    this.#faxDestination = voicemail.faxDestination;
    this.#lookup = {
      countryCode: cc,
      dialInNumbers: new Set(voicemail.dialInNumbers.map((n) => toE164(n, cc)).filter((n): n is string => !!n)),
      isLine: async (n) => (await deps.store.lines.find(n)) !== undefined,
    };
  }

  async classify(request: SipRequest): Promise<CallClass> {
    const target = await resolveCallTarget(request, this.#lookup);
    if (!target) return { kind: 'unknown' };
    if (target.kind === 'dialin') return { kind: 'dialin' };
    const line = await this.#store.lines.get(target.number);
    if (line.routing === 'fax') {
      // A line in fax routing is never answered as voicemail (the guide: activating the répondeur disables fax, and vice versa).
      return this.#faxDestination ? { kind: 'fax-redirect', line: line.number, to: this.#faxDestination } : { kind: 'fax-unavailable', line: line.number };
    }
    return { kind: 'deposit', line, busy: isBusyReason(target.reason) };
  }
}
