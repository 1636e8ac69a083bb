/**
 * Unsolicited message-waiting indication: the common Asterisk `mailbox=` / `unsolicited_mwi` use, for phones that
 * never SUBSCRIBE. Each line may have contact URIs (the operator's `mwi_contacts`); they get an out-of-dialog
 * NOTIFY (`Event: message-summary`, an RFC 3842 body) at start and after every change of the line's mailbox.
 * Failures (no answer, an error response, an unresolvable host) are logged and counted, never thrown.
 */
import { systemClock, type Clock, type Timer } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { SipResponse } from '../sip/message.js';
import type { Folder } from '../store/schema.js';
import type { MwiContact } from '../store/mwi-contacts.js';
import { MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE, countsFromFolders, messageAccount, messageSummaryBody } from './message-summary.js';

/** NOTIFYs sent unsolicited since start, by outcome (read by /metrics at scrape time). */
export const unsolicitedNotifyTotals = { accepted: 0, rejected: 0, failed: 0 };

export interface OutOfDialogSender {
  sendOutOfDialog(
    method: string,
    targetUri: string,
    extra: { from: string; headers?: Record<string, string>; body?: { contentType: string; data: Buffer } },
  ): Promise<SipResponse | null>;
}

export interface UnsolicitedMwiDeps {
  ua: OutOfDialogSender;
  logger: Logger;
  /** The contacts of one line, or (no argument) of every line. */
  contacts: (line?: string) => Promise<MwiContact[]>;
  /** Folder counts of a line. */
  counts: (line: string) => Promise<Record<Folder, number>>;
  /** Host of Message-Account and of the From URI. */
  accountHost: string;
  /** Changes of one line within this many ms are sent as one NOTIFY. */
  coalesceMs: number;
  /** Runs the coalescing timer (the user agent's clock; a ManualClock in tests). */
  clock?: Clock;
}

interface LineState {
  sending: Promise<void> | undefined;
  again: boolean;
}

export class UnsolicitedMwi {
  readonly #deps: UnsolicitedMwiDeps;
  readonly #lines = new Map<string, LineState>();
  readonly #pending = new Map<string, Timer>();
  #closed = false;

  constructor(deps: UnsolicitedMwiDeps) {
    this.#deps = deps;
  }

  /** At start: every line with contacts announces its current state (a phone may have missed changes meanwhile). */
  async start(): Promise<void> {
    let contacts: MwiContact[];
    try {
      contacts = await this.#deps.contacts();
    } catch (err) {
      this.#deps.logger.error({ err }, 'unsolicited MWI: cannot read the contacts; no NOTIFY at start');
      return;
    }
    for (const line of new Set(contacts.map((c) => c.line))) this.#announce(line);
  }

  /** The counts of `line` changed (or its contacts did): its contacts get a NOTIFY, once per burst. */
  mailboxChanged(line: string): void {
    if (this.#closed || this.#pending.has(line)) return;
    const t = (this.#deps.clock ?? systemClock).setTimer(this.#deps.coalesceMs, () => {
      this.#pending.delete(line);
      this.#announce(line);
    });
    this.#pending.set(line, t);
  }

  /** Stops announcing; waits for the NOTIFYs in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#pending.values()) t.cancel();
    this.#pending.clear();
    await Promise.all([...this.#lines.values()].map((s) => s.sending));
  }

  /** One announcement of a line at a time; a change meanwhile sends the latest state once more afterwards. */
  #announce(line: string): void {
    if (this.#closed) return;
    let state = this.#lines.get(line);
    if (state === undefined) this.#lines.set(line, (state = { sending: undefined, again: false }));
    if (state.sending !== undefined) {
      state.again = true;
      return;
    }
    const s = state;
    s.sending = this.#send(line)
      .catch((err: unknown) => this.#deps.logger.error({ err, line }, 'unsolicited MWI: announcement failed'))
      .finally(() => {
        s.sending = undefined;
        if (s.again && !this.#closed) {
          s.again = false;
          this.#announce(line);
        } else this.#lines.delete(line);
      });
  }

  async #send(line: string): Promise<void> {
    const contacts = await this.#deps.contacts(line);
    if (contacts.length === 0) return;
    const account = messageAccount(line, this.#deps.accountHost);
    const data = Buffer.from(messageSummaryBody(account, countsFromFolders(await this.#deps.counts(line))));
    await Promise.all(
      contacts.map(async ({ uri }) => {
        // RFC 3842 §3.8 / RFC 6665 §8.2.3: the NOTIFY carries the package in Event and, as every NOTIFY must, a
        // Subscription-State ("active": the state is current; there is no dialog to refresh, as with Asterisk's).
        const res = await this.#deps.ua.sendOutOfDialog('NOTIFY', uri, {
          from: account,
          headers: { Event: MESSAGE_SUMMARY_EVENT, 'Subscription-State': 'active' },
          body: { contentType: MESSAGE_SUMMARY_TYPE, data },
        });
        if (res === null) {
          unsolicitedNotifyTotals.failed++;
          this.#deps.logger.warn({ line, uri }, 'unsolicited MWI NOTIFY not answered (time-out, transport error or unknown host)');
        } else if (res.status >= 300) {
          unsolicitedNotifyTotals.rejected++;
          this.#deps.logger.warn({ line, uri, status: res.status, reason: res.reason }, 'unsolicited MWI NOTIFY refused');
        } else {
          unsolicitedNotifyTotals.accepted++;
          this.#deps.logger.info({ line, uri }, 'unsolicited MWI NOTIFY accepted');
        }
      }),
    );
  }
}
