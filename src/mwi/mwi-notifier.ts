/**
 * The message-waiting notifier (RFC 3842 over RFC 6665): answers SUBSCRIBE for `message-summary` on a line, keeps
 * the line → subscriptions registry and sends a NOTIFY to every subscriber of a line when its counts change.
 */
import { z } from 'zod';
import type { Logger } from '../shared/log.js';
import type { Timer } from '../shared/clock.js';
import { createResponse } from '../sip/response.js';
import { getTag, parseCSeq } from '../sip/headers.js';
import { dialogKey, newTag } from '../sip/dialog.js';
import type { Peer, SipRequest, SipResponse } from '../sip/message.js';
import { ALLOWED_EVENTS } from '../sip/user-agent.js';
import { SubscriptionDialog, type NotifyBody, type SubscriptionHost } from '../sip/subscription-dialog.js';
import type { Folder } from '../store/schema.js';
import { MwiOptionsSchema, type MwiOptions } from '../shared/config.js';
import { MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE, countsFromFolders, messageAccount, messageSummaryBody } from './message-summary.js';

/** What the notifier needs from the UA: the subscription host plus the response decoration (Contact, Allow). */
export interface MwiUserAgent extends SubscriptionHost {
  decorate(res: SipResponse, peer: Peer): void;
}

export interface MwiNotifierDeps {
  ua: MwiUserAgent;
  logger: Logger;
  /** The line a Request-URI names (as the store spells it), or undefined when it is no line of ours. */
  lineOf: (requestUri: string) => Promise<string | undefined>;
  /** Folder counts of a line. */
  counts: (line: string) => Promise<Record<Folder, number>>;
  /** Host in Message-Account. */
  accountHost: string;
  options: MwiOptions;
}

type Tx = { respond(res: SipResponse): void };

export class MwiNotifier {
  readonly #deps: MwiNotifierDeps;
  readonly #opts: z.output<typeof MwiOptionsSchema>;
  readonly #byKey = new Map<string, { line: string; sub: SubscriptionDialog }>();
  readonly #byLine = new Map<string, Set<SubscriptionDialog>>();
  readonly #pending = new Map<string, Timer>();
  #closed = false;

  constructor(deps: MwiNotifierDeps) {
    this.#deps = deps;
    this.#opts = MwiOptionsSchema.parse(deps.options);
  }

  get subscriptionCount(): number {
    return this.#byKey.size;
  }

  /** A SUBSCRIBE (the UA's subscribe handler). Never throws: problems are answered. */
  handleSubscribe(req: SipRequest, source: Peer, tx: Tx): void {
    this.#subscribe(req, source, tx).catch((err: unknown) => {
      this.#deps.logger.error({ err, callId: req.headers.get('Call-ID') }, 'error while handling SUBSCRIBE');
      this.#respond(req, tx, 500, 'Server Internal Error', undefined);
    });
  }

  /**
   * A REGISTER (the UA's register handler): from a trusted source, 200 with the bindings echoed and none kept;
   * otherwise not ours (false: the UA answers 405 as before).
   */
  handleRegister(req: SipRequest, source: Peer, tx: Tx): boolean {
    if (!this.#opts.trustedSources.includes(source.address)) return false;
    const requested = this.#requestedExpires(req);
    const defaultExpires = requested === 'bad' || requested === undefined ? this.#opts.defaultExpires : requested;
    const res = createResponse(req, 200, 'OK', getTag(req.headers.get('To') ?? '') ? undefined : newTag());
    // RFC 3261 §10.3 step 8: "The registrar returns a 200 (OK) response. The response MUST contain Contact header
    // field values enumerating all current bindings", each with its expires parameter — here the ones just sent.
    for (const contact of req.headers.getAll('Contact').flatMap((c) => c.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/))) {
      const value = contact.trim();
      if (value === '' || value === '*') continue;
      const own = /;\s*expires\s*=\s*(\d+)/i.exec(value);
      const expires = Math.min(own ? Number(own[1]) : defaultExpires, this.#opts.maxExpires);
      if (expires === 0) continue;
      res.headers.append('Contact', `${value.replace(/;\s*expires\s*=\s*\d+/i, '')};expires=${expires}`);
    }
    tx.respond(res);
    this.#deps.logger.info({ aor: req.headers.get('To'), source: source.address }, 'REGISTER accepted from a trusted MWI source (no binding kept)');
    return true;
  }

  /** The counts of `line` changed: its subscribers get a NOTIFY (after `coalesceMs`, once per burst). */
  mailboxChanged(line: string): void {
    if (this.#closed || !this.#byLine.has(line) || this.#pending.has(line)) return;
    // On the UA's clock, like the subscriptions' expiry timers.
    const t = this.#deps.ua.clock.setTimer(this.#opts.coalesceMs, () => {
      this.#pending.delete(line);
      for (const sub of this.#byLine.get(line) ?? []) sub.notify();
    });
    this.#pending.set(line, t);
  }

  /** Shutdown: every subscription ends with NOTIFY terminated;reason=deactivated (RFC 6665 §4.1.3: re-subscribe later). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#pending.values()) t.cancel();
    this.#pending.clear();
    await Promise.all([...this.#byKey.values()].map(({ sub }) => sub.terminate('deactivated')));
  }

  async #subscribe(req: SipRequest, source: Peer, tx: Tx): Promise<void> {
    const callId = req.headers.get('Call-ID') ?? '';
    const logger = this.#deps.logger.child({ callId });
    // RFC 6665 §4.2.1: "If the notifier is unable to process the subscription because the event package is not
    // supported, it MUST respond with a 489 (Bad Event) response"; §8.2.2: Allow-Events lists the packages we do.
    const event = (req.headers.get('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event !== MESSAGE_SUMMARY_EVENT) return this.#respond(req, tx, 489, 'Bad Event', undefined, { 'Allow-Events': ALLOWED_EVENTS.join(', ') });
    // RFC 3261 §21.4.7 / RFC 6665 §4.1.1: Accept, when present, must admit the package's body type (406 otherwise).
    const accept = req.headers.getAll('Accept').join(',').toLowerCase();
    if (accept.trim() !== '' && !accept.split(',').some((a) => [MESSAGE_SUMMARY_TYPE, 'application/*', '*/*'].includes(a.split(';')[0]!.trim()))) {
      return this.#respond(req, tx, 406, 'Not Acceptable', undefined, { Accept: MESSAGE_SUMMARY_TYPE });
    }
    const requested = this.#requestedExpires(req);
    if (requested === 'bad') return this.#respond(req, tx, 400, 'Bad Request (Expires is not a number)', undefined);
    const toTag = getTag(req.headers.get('To') ?? '');
    const seq = parseCSeq(req.headers.get('CSeq') ?? '').seq;
    if (toTag) return this.#refresh(req, tx, requested, seq);
    // Who may learn a line's counts: see "Message-waiting light" in README. RFC 6665 §4.2.1.1: "If the notifier
    // is not authorized to process a subscription, it SHOULD respond with 403 (Forbidden)".
    const trusted = this.#opts.trustedSources;
    if (trusted.length > 0 && !trusted.includes(source.address)) return this.#respond(req, tx, 403, 'Forbidden', undefined);
    // RFC 6665 §4.2.1.1: "a notifier MAY respond with a 423 (Interval Too Brief) ... if the expiration interval is
    // greater than zero but smaller than the minimum allowed"; RFC 3261 §20.23 Min-Expires carries the minimum.
    if (requested !== undefined && requested > 0 && requested < this.#opts.minExpires) {
      return this.#respond(req, tx, 423, 'Interval Too Brief', undefined, { 'Min-Expires': String(this.#opts.minExpires) });
    }
    const line = await this.#deps.lineOf(req.uri);
    if (line === undefined) return this.#respond(req, tx, 404, 'Not Found', undefined);
    const expires = Math.min(requested ?? this.#opts.defaultExpires, this.#opts.maxExpires);
    const localTag = newTag();
    const sub = new SubscriptionDialog({
      request: req,
      source,
      localTag,
      remoteSeq: seq,
      event: MESSAGE_SUMMARY_EVENT,
      expiresSeconds: expires,
      host: this.#deps.ua,
      logger,
      body: () => this.#body(line),
    });
    // RFC 6665 §4.2.1: "the notifier ... responds with a 200-class response"; "The "Expires" header field in a 200-class
    // response to SUBSCRIBE request indicates the actual duration"; §4.2.1.2 requires a Contact (decorate adds it).
    this.#respond(req, tx, 200, 'OK', localTag, { Expires: String(expires) }, source);
    this.#register(line, sub, logger);
    logger.info({ line, expires }, 'MWI subscription created');
    // RFC 6665 §4.2.1: "Upon successfully accepting or refreshing a subscription, notifiers MUST send a NOTIFY request
    // immediately to communicate the current resource state to the subscriber." An Expires: 0 fetch gets it terminated.
    if (expires === 0) void sub.terminate('timeout');
    else sub.notify();
  }

  #refresh(req: SipRequest, tx: Tx, requested: number | undefined, seq: number): void {
    const callId = req.headers.get('Call-ID') ?? '';
    const key = dialogKey(callId, getTag(req.headers.get('To') ?? '') ?? '', getTag(req.headers.get('From') ?? '') ?? '');
    const entry = this.#byKey.get(key);
    // RFC 6665 §4.2.1.2 / RFC 3261 §12.2.2: a refresh for a subscription we do not have gets 481.
    if (!entry || entry.sub.state === 'terminated') return this.#respond(req, tx, 481, 'Subscription Does Not Exist', undefined);
    if (!entry.sub.dialog.acceptSequence(seq, 'SUBSCRIBE')) return this.#respond(req, tx, 500, 'Out Of Order CSeq', undefined, { 'Retry-After': '1' });
    if (requested !== undefined && requested > 0 && requested < this.#opts.minExpires) {
      return this.#respond(req, tx, 423, 'Interval Too Brief', undefined, { 'Min-Expires': String(this.#opts.minExpires) });
    }
    const expires = Math.min(requested ?? this.#opts.defaultExpires, this.#opts.maxExpires);
    this.#respond(req, tx, 200, 'OK', undefined, { Expires: String(expires) }, entry.sub.dialog.peer);
    if (expires === 0) void entry.sub.terminate('timeout');
    else entry.sub.refresh(expires);
  }

  #register(line: string, sub: SubscriptionDialog, logger: Logger): void {
    this.#byKey.set(sub.key, { line, sub });
    let set = this.#byLine.get(line);
    if (!set) this.#byLine.set(line, (set = new Set()));
    set.add(sub);
    sub.once('terminated', (reason) => {
      this.#byKey.delete(sub.key);
      set.delete(sub);
      if (set.size === 0) this.#byLine.delete(line);
      logger.info({ line, reason }, 'MWI subscription ended');
    });
  }

  async #body(line: string): Promise<NotifyBody> {
    const counts = countsFromFolders(await this.#deps.counts(line));
    return { contentType: MESSAGE_SUMMARY_TYPE, data: Buffer.from(messageSummaryBody(messageAccount(line, this.#deps.accountHost), counts)) };
  }

  #requestedExpires(req: SipRequest): number | undefined | 'bad' {
    const v = req.headers.get('Expires');
    if (v === undefined) return undefined;
    return /^\s*\d{1,10}\s*$/.test(v) ? Number(v) : 'bad';
  }

  #respond(req: SipRequest, tx: Tx, status: number, reason: string, localTag: string | undefined, headers: Record<string, string> = {}, peer?: Peer): void {
    const res = createResponse(req, status, reason, getTag(req.headers.get('To') ?? '') ? undefined : (localTag ?? newTag()));
    if (peer) this.#deps.ua.decorate(res, peer);
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
    tx.respond(res);
  }
}
