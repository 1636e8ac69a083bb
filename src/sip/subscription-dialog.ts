/**
 * The notifier side of one RFC 6665 subscription: the dialog a SUBSCRIBE created, its expiry timer, the NOTIFYs
 * we send in it (one at a time, the latest state wins), refreshes, un-subscribes and termination.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import type { Clock, Timer } from '../shared/clock.js';
import type { Peer, SipRequest, SipResponse } from './message.js';
import { UasDialogState } from './dialog.js';

export type SubscriptionState = 'active' | 'terminated';
/** RFC 6665 §4.1.3 reason values we use. */
export type TerminationReason = 'timeout' | 'noresource' | 'deactivated' | 'rejected';

export interface NotifyBody {
  contentType: string;
  data: Buffer;
}

/** What the subscription needs from the user agent (SipUserAgent implements it). */
export interface SubscriptionHost {
  readonly clock: Clock;
  sendInDialog(dialog: UasDialogState, method: string, extra: { headers?: Record<string, string>; body?: NotifyBody }): Promise<SipResponse | null>;
}

export interface SubscriptionOptions {
  request: SipRequest;
  source: Peer;
  localTag: string;
  remoteSeq: number;
  event: string;
  expiresSeconds: number;
  host: SubscriptionHost;
  logger: Logger;
  /** The current state of the resource, read for each NOTIFY. */
  body: () => Promise<NotifyBody>;
}

export declare interface SubscriptionDialog {
  on(event: 'terminated', listener: (reason: TerminationReason | 'failed') => void): this;
}

export class SubscriptionDialog extends EventEmitter {
  readonly dialog: UasDialogState;
  readonly event: string;
  readonly #host: SubscriptionHost;
  readonly #logger: Logger;
  readonly #body: () => Promise<NotifyBody>;
  #state: SubscriptionState = 'active';
  #expiresAt: number;
  #timer: Timer | undefined;
  #sending = false;
  /** A NOTIFY was asked for while one was in flight: send the state once more when it completes. */
  #again = false;
  /** Set once the final NOTIFY is due: the reason it carries. */
  #finalReason: TerminationReason | undefined;

  constructor(opts: SubscriptionOptions) {
    super();
    this.#host = opts.host;
    this.#logger = opts.logger;
    this.#body = opts.body;
    this.event = opts.event;
    // RFC 6665 §4.2.1: the 200 to the SUBSCRIBE "will create a dialog"; the dialog state is that of RFC 3261 §12.1.1.
    this.dialog = new UasDialogState(opts.request, opts.localTag, opts.source, opts.remoteSeq);
    this.#expiresAt = this.#host.clock.now() + opts.expiresSeconds * 1000;
    this.#arm();
  }

  get state(): SubscriptionState {
    return this.#state;
  }

  get key(): string {
    return this.dialog.key;
  }

  /** Whole seconds left before the subscription expires. */
  get remainingSeconds(): number {
    return Math.max(0, Math.ceil((this.#expiresAt - this.#host.clock.now()) / 1000));
  }

  /**
   * RFC 6665 §4.2.1.2: "When a notifier receives a subscription refresh, assuming that the subscriber is still
   * authorized, the notifier updates the expiration time for subscription. As with the initial subscription, the
   * server MAY shorten the amount of time until expiration but MUST NOT increase it. The final expiration time is
   * placed in the "Expires" header field in the response." Then a NOTIFY follows (§4.2.1.2: "... the notifier
   * sends a NOTIFY request").
   */
  refresh(expiresSeconds: number): void {
    if (this.#state === 'terminated') return;
    this.#expiresAt = this.#host.clock.now() + expiresSeconds * 1000;
    this.#arm();
    this.notify();
  }

  /**
   * RFC 6665 §4.2.2: "Upon a change in the state of the resource, the notifier sends a NOTIFY". One NOTIFY is in
   * flight at a time; a change during it is sent after it with the state read then (bursts coalesce).
   */
  notify(): void {
    if (this.#state === 'terminated' && this.#finalReason === undefined) return;
    if (this.#sending) {
      this.#again = true;
      return;
    }
    void this.#send();
  }

  /**
   * RFC 6665 §4.2.1.4: "Unsubscribing is handled in the same way as refreshing of a subscription, with the "Expires"
   * header field set to "0". ... the notifier sends a final NOTIFY request"; §4.1.3: "a "Subscription-State" header
   * field value of "terminated" ... the subscription has been terminated", with a reason (timeout on expiry and
   * un-subscribe, noresource when the line goes away, deactivated on shutdown).
   */
  terminate(reason: TerminationReason): Promise<void> {
    if (this.#state === 'terminated') return Promise.resolve();
    this.#state = 'terminated';
    this.#finalReason = reason;
    this.#timer?.cancel();
    this.#timer = undefined;
    return new Promise((resolve) => {
      this.once('terminated', () => resolve());
      this.notify();
    });
  }

  #arm(): void {
    this.#timer?.cancel();
    // RFC 6665 §4.2.2: "If the subscription expires ... the notifier ... sends a NOTIFY request with a
    // "Subscription-State" value of "terminated" and a reason parameter of "timeout"".
    this.#timer = this.#host.clock.setTimer(Math.max(0, this.#expiresAt - this.#host.clock.now()), () => void this.terminate('timeout'));
  }

  async #send(): Promise<void> {
    this.#sending = true;
    const final = this.#finalReason;
    let res: SipResponse | null = null;
    let body: NotifyBody | undefined;
    try {
      body = await this.#body();
    } catch (err) {
      this.#logger.warn({ err: (err as Error).message }, 'cannot read the state of the subscribed resource');
      if (final === undefined) {
        this.#sending = false;
        // RFC 6665 §4.1.3: "noresource: The subscription has been terminated because the resource state which was
        // being monitored no longer exists." (e.g. the line was deleted); the final NOTIFY then has no body.
        void this.terminate('noresource');
        return;
      }
    }
    try {
      // RFC 6665 §4.1.3: "the "Subscription-State" header field ... "active" ... "expires" parameter ... indicates the
      // time remaining on the subscription"; §8.2.1 "NOTIFY requests MUST contain "Event" header fields".
      const state = final === undefined ? `active;expires=${this.remainingSeconds}` : `terminated;reason=${final}`;
      res = await this.#host.sendInDialog(this.dialog, 'NOTIFY', { headers: { Event: this.event, 'Subscription-State': state }, ...(body ? { body } : {}) });
      this.#logger.debug({ status: res?.status ?? 'timeout', subscriptionState: state }, 'NOTIFY answered');
    } catch (err) {
      this.#logger.warn({ err: (err as Error).message }, 'cannot send NOTIFY');
    }
    this.#sending = false;
    if (final !== undefined) return this.#finish(final);
    if (res === null || res.status >= 300) {
      // RFC 6665 §4.2.2: "If the NOTIFY request fails due to expiration of SIP Timer F (transaction timeout), the
      // notifier SHOULD remove the subscription." A 481 means the subscriber has no such subscription (any other
      // non-2xx final response, §4.2.2, ends it too: "the notifier will remove the corresponding subscription").
      this.#logger.info({ status: res?.status ?? 'timeout' }, 'NOTIFY failed: subscription removed');
      this.#state = 'terminated';
      this.#timer?.cancel();
      this.emit('terminated', 'failed');
      return;
    }
    if (this.#finalReason !== undefined || this.#again) {
      this.#again = false;
      void this.#send();
    }
  }

  #finish(reason: TerminationReason): void {
    this.dialog.terminate();
    this.emit('terminated', reason);
  }
}
