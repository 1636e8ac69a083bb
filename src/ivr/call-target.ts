/**
 * Which service a call is for: the dial-in menu, or the mailbox of a line — found from the Request-URI, the
 * voicemail URI of RFC 4458, Diversion (RFC 5806), History-Info (RFC 7044) or To.
 */
import type { SipRequest } from '../sip/message.js';
import { parseNameAddr, parseUri } from '../sip/headers.js';
import { toE164 } from '../shared/e164.js';

export type CallTarget =
  | { kind: 'dialin'; number: string }
  | { kind: 'line'; number: string; via: 'request-uri' | 'rfc4458-target' | 'diversion' | 'history-info' | 'to'; reason?: string };

export interface TargetLookup {
  countryCode: string;
  /** Dial-in numbers, already in E.164. */
  dialInNumbers: ReadonlySet<string>;
  /** Whether a number (E.164) is a line we serve, in any routing. */
  isLine(number: string): Promise<boolean>;
}

/** The E.164 number a SIP or tel URI names (user part), or undefined. */
export function userOf(uri: string, countryCode: string): string | undefined {
  try {
    const u = parseUri(uri);
    if (u.scheme === 'tel') return toE164(u.host, countryCode);
    return u.user !== undefined ? toE164(decodeURIComponent(u.user), countryCode) : undefined;
  } catch {
    return undefined;
  }
}

/** The diverting numbers of Diversion headers, most recent first (RFC 5806 §3: "the most recent ... first"). */
function diversions(req: SipRequest, cc: string): Array<{ number: string; reason?: string }> {
  const out: Array<{ number: string; reason?: string }> = [];
  for (const v of req.headers.getAll('Diversion')) {
    try {
      const na = parseNameAddr(v);
      const n = userOf(na.uri, cc);
      const reason = na.params.get('reason') ?? undefined;
      if (n) out.push(reason ? { number: n, reason } : { number: n });
    } catch {
      // an unparseable Diversion entry is skipped, not fatal
    }
  }
  return out;
}

/**
 * History-Info targets (RFC 7044 §10.3: entries are ordered by index; the last entry is the current target,
 * i.e. us). Returns the earlier targets from the most recent to the original one.
 */
function historyTargets(req: SipRequest, cc: string): Array<{ number: string; reason?: string }> {
  const entries: Array<{ index: string; number: string; reason?: string }> = [];
  for (const v of req.headers.getAll('History-Info')) {
    try {
      const na = parseNameAddr(v);
      const n = userOf(na.uri, cc);
      const cause = /[;?&]cause=(\d{3})/.exec(na.uri)?.[1];
      if (n) entries.push({ index: na.params.get('index') ?? String(entries.length + 1), number: n, ...(cause ? { reason: cause } : {}) });
    } catch {
      // skip
    }
  }
  entries.sort((a, b) => a.index.localeCompare(b.index, 'en', { numeric: true }));
  return entries.slice(0, -1).reverse();
}

/**
 * Order of precedence: the Request-URI when it is a dial-in number or one of our lines (a direct call); the
 * RFC 4458 `target` parameter of a voicemail Request-URI; the Diversion entries; the History-Info entries; and
 * finally the To header. The first number that is one of our lines wins.
 */
export async function resolveCallTarget(req: SipRequest, lookup: TargetLookup): Promise<CallTarget | undefined> {
  const cc = lookup.countryCode;
  const ruri = userOf(req.uri, cc);
  if (ruri && lookup.dialInNumbers.has(ruri)) return { kind: 'dialin', number: ruri };
  if (ruri && (await lookup.isLine(ruri))) return { kind: 'line', number: ruri, via: 'request-uri' };
  try {
    const u = parseUri(req.uri);
    const target = u.params.get('target');
    if (target) {
      const n = userOf(decodeURIComponent(target), cc);
      const cause = u.params.get('cause') ?? undefined;
      if (n && (await lookup.isLine(n))) return { kind: 'line', number: n, via: 'rfc4458-target', ...(cause ? { reason: cause } : {}) };
    }
  } catch {
    // Request-URI already validated by the SIP layer; nothing more to learn here
  }
  for (const d of diversions(req, cc)) if (await lookup.isLine(d.number)) return { kind: 'line', number: d.number, via: 'diversion', ...(d.reason ? { reason: d.reason } : {}) };
  for (const h of historyTargets(req, cc)) if (await lookup.isLine(h.number)) return { kind: 'line', number: h.number, via: 'history-info', ...(h.reason ? { reason: h.reason } : {}) };
  const to = req.headers.get('To');
  if (to) {
    try {
      const n = userOf(parseNameAddr(to).uri, cc);
      if (n && lookup.dialInNumbers.has(n)) return { kind: 'dialin', number: n };
      if (n && (await lookup.isLine(n))) return { kind: 'line', number: n, via: 'to' };
    } catch {
      // no usable To
    }
  }
  return undefined;
}

/** Whether a forwarding reason means "busy" (RFC 5806 reason=user-busy, RFC 4458 cause=486). */
export function isBusyReason(reason: string | undefined): boolean {
  return reason === 'user-busy' || reason === '486';
}
