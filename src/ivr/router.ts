/**
 * Runs an incoming INVITE: asks the classifier which flow it is for (call-classifier.ts), answers the refusals
 * (404, 302, 480), has the media set up (call-media.ts) and runs the dial-in or deposit flow on the answered call.
 */
import type { Logger } from '../shared/log.js';
import type { CallMetricsSink } from './call-metrics.js';
import type { Config } from '../shared/config.js';
import type { Store } from '../store/index.js';
import type { IncomingInvite } from '../sip/incoming-invite.js';
import { parseNameAddr, parseUri } from '../sip/headers.js';
import type { MediaSessionFactory } from '../media/index.js';
import type { PromptCatalog } from './prompts/catalog.js';
import { toE164 } from '../shared/e164.js';
import { CallClassifier, type CallClass } from './call-classifier.js';
import { AnsweredCall, CallMediaSetup } from './call-media.js';
import type { Clock } from '../shared/clock.js';
import { runDepositFlow } from './deposit/deposit-flow.js';
import { runDialInFlow } from './dialin/dialin-flow.js';
import { callerAddress } from './caller-address.js';

export interface CallRouterDeps {
  store: Store;
  prompts: PromptCatalog;
  config: Config;
  logger: Logger;
  /** Opens each call's media session (call-media.ts). */
  media: MediaSessionFactory;
  /** Call counters (Prometheus); absent: none kept. */
  metrics?: CallMetricsSink;
  /** Times the calls' digit and recording deadlines (default the system clock). */
  clock?: Clock;
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
  readonly #classifier: CallClassifier;
  readonly #media: CallMediaSetup;
  #active = 0;
  readonly #idleWaiters = new Set<() => void>();

  constructor(deps: CallRouterDeps) {
    this.#deps = deps;
    this.#classifier = new CallClassifier(deps);
    this.#media = new CallMediaSetup(deps);
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
    const { config, metrics } = this.#deps;
    const log = invite.logger;
    const route = await this.#classifier.classify(invite.request);
    switch (route.kind) {
      case 'unknown':
        log.info({ uri: invite.request.uri }, 'no line for this call: 404');
        invite.reject(404, 'Not Found');
        metrics?.callFailed('not_found');
        return;
      case 'fax-redirect':
        log.info({ line: route.line, to: route.to }, 'fax-routed line: redirecting');
        invite.redirect([route.to]);
        metrics?.callFailed('fax_redirect');
        return;
      case 'fax-unavailable':
        log.info({ line: route.line }, 'fax-routed line and no fax destination: 480');
        invite.reject(480, 'Temporarily Unavailable', { Warning: '399 repondeur "line is routed to fax"' });
        metrics?.callFailed('fax_no_destination');
        return;
      case 'dialin':
      case 'deposit':
        break;
    }
    if (config.sip.answerDelayMs > 0) {
      invite.progress(180);
      await new Promise((r) => setTimeout(r, config.sip.answerDelayMs));
      if (invite.cancelled) return;
    }
    const answered = await this.#media.answer(invite);
    if (!(answered instanceof AnsweredCall)) {
      if (answered !== 'cancelled') metrics?.callFailed(answered);
      return;
    }
    try {
      metrics?.callStarted(route.kind);
      try {
        if (await answered.mediaReady()) await this.#run(invite, route, answered);
      } finally {
        metrics?.callEnded(route.kind);
        // The flow has returned: its last log line is written (tests wait on this one).
        log.debug({ kind: route.kind }, 'call handled');
      }
    } finally {
      answered.close();
    }
  }

  async #run(invite: IncomingInvite, route: Extract<CallClass, { kind: 'dialin' | 'deposit' }>, answered: AnsweredCall): Promise<void> {
    const { store, config } = this.#deps;
    const log = invite.logger;
    const { call } = answered;
    const caller = callerIdentity(invite, config.voicemail.countryCode);
    if (route.kind === 'dialin') {
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
        line: route.line,
        ...(caller.number ? { caller: caller.number } : {}),
        ...(caller.name ? { callerName: caller.name } : {}),
        busy: route.busy,
      });
      this.#deps.metrics?.depositFinished(deposit.outcome);
    }
    if (!call.ended) await call.hangup();
  }
}
