/**
 * The media set-up of a call the router decided to answer: an RTP session on a free port, the 200 carrying our
 * SDP (an answer to the INVITE's offer, or our offer when it had none), and the {@link SipCall} the flows run on.
 * What the call is for is decided before, by call-classifier.ts.
 */
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { Clock } from '../shared/clock.js';
import { advertisedAddress } from '../shared/net-address.js';
import type { IncomingInvite } from '../sip/incoming-invite.js';
import type { SipDialog } from '../sip/sip-dialog.js';
import { PortsExhaustedError, type MediaSession, type MediaSessionFactory } from '../media/index.js';
import { configureSession, SipCall } from './sip-call.js';

/** Why a call could not be answered (the INVITE got its final response); the router counts it under this cause. */
export type MediaSetupFailure = 'no_rtp_port' | 'cancelled';

/** An answered call: the dialog is up, its media session open. Close it when the flow is done. */
export class AnsweredCall {
  readonly call: SipCall;
  readonly #dialog: SipDialog;
  readonly #session: MediaSession;

  constructor(dialog: SipDialog, session: MediaSession, logger: Logger, clock?: Clock) {
    this.#dialog = dialog;
    this.#session = session;
    this.call = new SipCall(dialog, session, logger, clock);
    if (dialog.media) configureSession(session, dialog.media);
  }

  /**
   * Resolves true once media can flow: at once when the INVITE carried the offer, else when the ACK brings the
   * answer (RFC 3261 §13.2.1 late offer: our offer went in the 200; SipCall applies the answer). False when the call
   * ended first.
   */
  async mediaReady(): Promise<boolean> {
    if (this.#dialog.media) return true;
    await new Promise<void>((resolve) => {
      this.#dialog.once('reoffer', () => resolve());
      this.#dialog.once('terminated', () => resolve());
    });
    return !this.call.ended;
  }

  close(): void {
    this.#session.close();
  }
}

export interface CallMediaDeps {
  /** Opens each call's media session: on this thread (media.workers = 0) or in a media worker. */
  media: MediaSessionFactory;
  config: Pick<Config, 'rtp'>;
  /** Times the calls' digit and recording deadlines (default the system clock). */
  clock?: Clock;
}

/** Opens the media session and answers the INVITE with SDP, or answers 503 when no RTP port is free. */
export class CallMediaSetup {
  readonly #media: MediaSessionFactory;
  /** The address put in our SDP (c=). */
  readonly #mediaAddress: string;
  readonly #clock: Clock | undefined;

  constructor(deps: CallMediaDeps) {
    this.#clock = deps.clock;
    this.#media = deps.media;
    this.#mediaAddress = advertisedAddress(deps.config.rtp.host, deps.config.rtp.publicHost);
  }

  /** The answered call, or why it was not answered (its final response already sent, or the INVITE cancelled). */
  async answer(invite: IncomingInvite): Promise<AnsweredCall | MediaSetupFailure> {
    const log = invite.logger;
    let session: MediaSession;
    try {
      session = await this.#media.open({ logger: log });
    } catch (err) {
      if (err instanceof PortsExhaustedError) {
        log.warn('no RTP port free: 503');
        invite.reject(503, 'Service Unavailable', { 'Retry-After': '5' });
        return 'no_rtp_port';
      }
      throw err;
    }
    try {
      if (invite.cancelled) {
        session.close();
        return 'cancelled';
      }
      // The user agent negotiated the offer before emitting the INVITE (an unusable one got its 488 there).
      const dialog = invite.accept({ address: this.#mediaAddress, port: session.port, sessionId: String(Date.now()), sessionVersion: 1 });
      return new AnsweredCall(dialog, session, log, this.#clock);
    } catch (err) {
      session.close();
      throw err;
    }
  }
}
