/**
 * Decides what an incoming INVITE is for and runs the matching flow: the dial-in menu, a deposit into a
 * voicemail-routed line, a redirect for a fax-routed line, or a refusal.
 */
import type { Logger } from '../log.js';
import type { CallMetricsSink } from '../metrics.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { IncomingInvite } from '../sip/incoming-invite.js';
import { parseNameAddr, parseUri } from '../sip/headers.js';
import { SdpNegotiationError } from '../sip/sdp.js';
import { PortsExhaustedError, RtpSession, type RtpPortAllocator } from '../media/index.js';
import type { PromptCatalog } from './prompts/catalog.js';
import { isBusyReason, resolveCallTarget, type TargetLookup } from './call-target.js';
import { toE164 } from './numbers.js';
import { advertisedAddress } from '../net-address.js';
import { configureSession, SipCall } from './sip-call.js';
import { runDepositFlow } from './deposit/deposit-flow.js';
import { runDialInFlow } from './dialin/dialin-flow.js';
import { callerAddress } from './caller-address.js';

export interface CallRouterDeps {
  store: Store;
  prompts: PromptCatalog;
  config: Config;
  logger: Logger;
  ports: RtpPortAllocator;
  /** Call counters (Prometheus); absent: none kept. */
  metrics?: CallMetricsSink;
}

/** The caller's number: P-Asserted-Identity (RFC 3325) first, then From; undefined when withheld. */
export function callerIdentity(invite: IncomingInvite, countryCode: string): { number?: string; name?: string } {
  const h = invite.request.headers;
  const privacy = (h.get('Privacy') ?? '').toLowerCase();
  for (const v of [h.get('P-Asserted-Identity'), h.get('From')]) {
    if (!v) continue;
    try {
      const na = parseNameAddr(v);
      const uri = parseUri(na.uri);
      const raw = uri.scheme === 'tel' ? (uri.user ?? uri.host) : uri.user;
      const number = raw ? toE164(decodeURIComponent(raw), countryCode) : undefined;
      if (!number) continue;
      // RFC 3323 §4.2: "id" privacy asks that the identity not be passed on to the callee.
      if (privacy.includes('id') || privacy.includes('user')) return {};
      return na.displayName ? { number, name: na.displayName } : { number };
    } catch {
      // try the next header
    }
  }
  return {};
}

export class CallRouter {
  readonly #deps: CallRouterDeps;
  readonly #lookup: TargetLookup;
  /** The address put in our SDP (c=). */
  readonly #mediaAddress: string;
  #active = 0;
  readonly #idleWaiters = new Set<() => void>();

  constructor(deps: CallRouterDeps) {
    this.#deps = deps;
    this.#mediaAddress = advertisedAddress(deps.config.rtp.host, deps.config.rtp.publicHost);
    const cc = deps.config.voicemail.countryCode;
    this.#lookup = {
      countryCode: cc,
      dialInNumbers: new Set(deps.config.voicemail.dialInNumbers.map((n) => toE164(n, cc)).filter((n): n is string => !!n)),
      isLine: async (n) => (await deps.store.lines.find(n)) !== undefined,
    };
  }

  /** Calls being handled now. */
  get activeCalls(): number {
    return this.#active;
  }

  async handle(invite: IncomingInvite): Promise<void> {
    this.#active++;
    try {
      await this.#handle(invite);
    } catch (err) {
      this.#deps.metrics?.callFailed('error');
      invite.logger.error({ err }, 'call failed');
      if (!invite.answered) invite.reject(500, 'Server Internal Error');
    } finally {
      this.#active--;
      if (this.#active === 0) for (const wake of this.#idleWaiters) wake();
    }
  }

  /** Resolves true when no call is in progress, or false after `timeoutMs` (shutdown drain). */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean): void => {
        clearTimeout(timer);
        this.#idleWaiters.delete(wake);
        resolve(idle);
      };
      const wake = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#idleWaiters.add(wake);
    });
  }

  async #handle(invite: IncomingInvite): Promise<void> {
    const { store, config } = this.#deps;
    const log = invite.logger;
    const target = await resolveCallTarget(invite.request, this.#lookup);
    if (!target) {
      log.info({ uri: invite.request.uri }, 'no line for this call: 404');
      invite.reject(404, 'Not Found');
      this.#deps.metrics?.callFailed('not_found');
      return;
    }
    const line = target.kind === 'line' ? await store.lines.get(target.number) : undefined;
    if (line && line.routing === 'fax') {
      // A line in fax routing is never answered as voicemail (the guide: activating the répondeur disables fax, and vice versa).
      if (config.voicemail.faxDestination) {
        log.info({ line: line.number, to: config.voicemail.faxDestination }, 'fax-routed line: redirecting');
        invite.redirect([config.voicemail.faxDestination]);
        this.#deps.metrics?.callFailed('fax_redirect');
      } else {
        log.info({ line: line.number }, 'fax-routed line and no fax destination: 480');
        invite.reject(480, 'Temporarily Unavailable', { Warning: '399 repondeur "line is routed to fax"' });
        this.#deps.metrics?.callFailed('fax_no_destination');
      }
      return;
    }
    if (config.sip.answerDelayMs > 0) {
      invite.progress(180);
      await new Promise((r) => setTimeout(r, config.sip.answerDelayMs));
      if (invite.cancelled) return;
    }
    let session: RtpSession;
    try {
      session = await RtpSession.open(this.#deps.ports, { host: config.rtp.host, recvBufferSize: config.rtp.socketBufferBytes, sendBufferSize: config.rtp.socketBufferBytes }, { logger: log });
    } catch (err) {
      if (err instanceof PortsExhaustedError) {
        log.warn('no RTP port free: 503');
        invite.reject(503, 'Service Unavailable', { 'Retry-After': '5' });
        this.#deps.metrics?.callFailed('no_rtp_port');
        return;
      }
      throw err;
    }
    try {
      if (invite.cancelled) return;
      let dialog;
      try {
        dialog = invite.accept({ address: this.#mediaAddress, port: session.port, sessionId: String(Date.now()), sessionVersion: 1 });
      } catch (err) {
        if (err instanceof SdpNegotiationError) {
          invite.reject(488, 'Not Acceptable Here', { Warning: `${err.warnCode} repondeur "${err.message}"` });
          this.#deps.metrics?.callFailed('sdp');
          return;
        }
        throw err;
      }
      const kind = target.kind === 'dialin' ? 'dialin' : 'deposit';
      this.#deps.metrics?.callStarted(kind);
      try {
        await this.#run(invite, target, line, dialog, session);
      } finally {
        this.#deps.metrics?.callEnded(kind);
      }
    } finally {
      session.close();
    }
  }

  async #run(
    invite: IncomingInvite,
    target: NonNullable<Awaited<ReturnType<typeof resolveCallTarget>>>,
    line: Awaited<ReturnType<Store['lines']['get']>> | undefined,
    dialog: ReturnType<IncomingInvite['accept']>,
    session: RtpSession,
  ): Promise<void> {
    const { store, config } = this.#deps;
    const log = invite.logger;
    const call = new SipCall(dialog, session, log);
    if (dialog.media) configureSession(session, dialog.media);
    else {
      // Late offer (RFC 3261 §13.2.1): our offer went in the 200, the answer comes in the ACK; no media until then.
      await new Promise<void>((resolve) => {
        dialog.once('reoffer', () => resolve());
        dialog.once('terminated', () => resolve());
      });
      if (call.ended) return;
    }
    const caller = callerIdentity(invite, config.voicemail.countryCode);
    if (target.kind === 'dialin') {
      await runDialInFlow({
        call,
        store,
        prompts: this.#deps.prompts,
        config,
        logger: log,
        ...(caller.number ? { caller: caller.number } : {}),
        remote: callerAddress(invite.request, invite.source.address, config.sip.trustedProxies),
        ...(this.#deps.metrics ? { onAuthOutcome: this.#deps.metrics.dialInAuth, onPinFailure: this.#deps.metrics.dialInPinFailure } : {}),
      });
    } else {
      const deposit = await runDepositFlow({
        call,
        store,
        prompts: this.#deps.prompts,
        config,
        logger: log,
        line: line!,
        ...(caller.number ? { caller: caller.number } : {}),
        ...(caller.name ? { callerName: caller.name } : {}),
        busy: target.kind === 'line' && isBusyReason(target.reason),
      });
      this.#deps.metrics?.depositFinished(deposit.outcome);
    }
    if (!call.ended) await call.hangup();
  }
}
