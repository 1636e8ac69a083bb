/**
 * AdmissionControl on a manual clock: the per-source token bucket (503 then silent drops, answered again once the
 * bucket refilled), scanner User-Agents, per-source half-open INVITEs, global caps, bounded memory, and the
 * UAS core wiring (a SipUserAgent over a fake transport: 503 + Retry-After, ticket released on ACK and on end).
 */
import { describe, expect, test } from '@jest/globals';
import { ManualClock } from '../../src/shared/clock.js';
import { AdmissionControl, DEFAULT_ADMISSION_OPTIONS } from '../../src/sip/admission.js';
import { AdmissionOptionsSchema } from '../../src/shared/config.js';

const A = '192.0.2.1';
const B = '198.51.100.7';

function control(o: Partial<typeof DEFAULT_ADMISSION_OPTIONS> = {}): { ac: AdmissionControl; clock: ManualClock } {
  const clock = new ManualClock();
  return { ac: new AdmissionControl({ ratePerSecond: 2, burst: 4, dropAfterRefusals: 2, trustedSources: [], ...o }, clock), clock };
}

describe('per-source token bucket', () => {
  test('a burst is admitted, the next requests get 503 with Retry-After, then are dropped silently', () => {
    const { ac } = control();
    const kinds = Array.from({ length: 8 }, () => ac.checkRequest('OPTIONS', 'softphone', A).kind);
    expect(kinds).toEqual(['accept', 'accept', 'accept', 'accept', 'reject', 'reject', 'drop', 'drop']);
    const v = ac.checkRequest('INVITE', undefined, A);
    expect(v).toEqual({ kind: 'drop', why: 'rate' });
    expect(ac.stats()).toMatchObject({ rejectedRate: 2, droppedRate: 3 });
  });

  test('the 503 carries a reason phrase and the configured Retry-After', () => {
    const { ac } = control({ retryAfterSeconds: 7 });
    for (let i = 0; i < 4; i++) ac.checkRequest('OPTIONS', undefined, A);
    expect(ac.checkRequest('OPTIONS', undefined, A)).toEqual({ kind: 'reject', status: 503, reason: 'Service Unavailable (too many requests from your address)', retryAfterSeconds: 7 });
  });

  test('another source is not affected by a flooding one', () => {
    const { ac } = control();
    for (let i = 0; i < 100; i++) ac.checkRequest('INVITE', undefined, A);
    expect(ac.checkRequest('OPTIONS', undefined, B).kind).toBe('accept');
  });

  test('tokens come back at ratePerSecond; a dropped source is answered again only once its bucket is full', () => {
    const { ac, clock } = control();
    for (let i = 0; i < 10; i++) ac.checkRequest('OPTIONS', undefined, A);
    clock.advance(500); // one token back
    expect(ac.checkRequest('OPTIONS', undefined, A).kind).toBe('accept');
    expect(ac.checkRequest('OPTIONS', undefined, A).kind).toBe('drop'); // still past the refusal threshold
    clock.advance(2000); // 4 tokens: full bucket, refusals forgotten
    for (let i = 0; i < 4; i++) expect(ac.checkRequest('OPTIONS', undefined, A).kind).toBe('accept');
    expect(ac.checkRequest('OPTIONS', undefined, A).kind).toBe('reject');
  });

  test('ACKs and trusted sources are never rate-limited', () => {
    const { ac } = control({ trustedSources: [B] });
    for (let i = 0; i < 50; i++) {
      expect(ac.checkRequest('ACK', undefined, A).kind).toBe('accept');
      expect(ac.checkRequest('INVITE', undefined, B).kind).toBe('accept');
    }
  });

  test('disabled, everything is accepted', () => {
    const { ac } = control({ enabled: false, maxCalls: 1, maxHalfOpen: 1 });
    for (let i = 0; i < 20; i++) expect(ac.checkRequest('INVITE', 'friendly-scanner', A).kind).toBe('accept');
    expect(ac.admitInvite(A).kind).toBe('accept');
    expect(ac.admitInvite(A).kind).toBe('accept');
  });
});

describe('scanner User-Agents', () => {
  test.each(['friendly-scanner', 'sipvicious 0.3.4', 'SIPCLI/v1.8', 'VaxSIPUserAgent/3.1', 'sip-scan'])('%s is dropped silently', (ua) => {
    const { ac } = control();
    expect(ac.checkRequest('OPTIONS', ua, A)).toEqual({ kind: 'drop', why: 'scanner' });
  });

  test('an ordinary User-Agent is accepted and the list is configurable', () => {
    const { ac } = control({ scannerUserAgents: ['evil'] });
    expect(ac.checkRequest('OPTIONS', 'Linphone/5.1', A).kind).toBe('accept');
    expect(ac.checkRequest('OPTIONS', 'friendly-scanner', A).kind).toBe('accept');
    expect(ac.checkRequest('OPTIONS', 'Very EVIL dialer', A).kind).toBe('drop');
    expect(ac.stats().droppedScanner).toBe(1);
  });
});

describe('half-open INVITEs and global caps', () => {
  test('per source: the limit counts INVITEs not yet ACKed; an ACK or an end frees a place', () => {
    const { ac } = control({ maxHalfOpenPerSource: 2 });
    const t1 = ac.admitInvite(A);
    const t2 = ac.admitInvite(A);
    if (t1.kind !== 'accept' || t2.kind !== 'accept') throw new Error('expected two tickets');
    const refused = ac.admitInvite(A);
    expect(refused).toMatchObject({ kind: 'reject', status: 503, reason: 'Service Unavailable (too many unanswered calls from your address)' });
    expect(ac.admitInvite(B).kind).toBe('accept'); // another source still gets in
    t1.ticket.confirm(); // ACKed: a call, no longer half-open
    expect(ac.stats()).toMatchObject({ calls: 3, halfOpen: 2 });
    const t3 = ac.admitInvite(A);
    expect(t3.kind).toBe('accept');
    t2.ticket.end();
    t2.ticket.end(); // idempotent
    t1.ticket.confirm();
    expect(ac.stats()).toMatchObject({ calls: 3, halfOpen: 2, rejectedHalfOpenPerSource: 1 }); // t1 (ACKed), t3 and B's
  });

  test('global cap on calls, and on calls not yet ACKed', () => {
    const { ac } = control({ maxCalls: 3, maxHalfOpen: 2, maxHalfOpenPerSource: 10 });
    const tickets = [ac.admitInvite(A), ac.admitInvite(B)].map((r) => (r.kind === 'accept' ? r.ticket : null));
    expect(ac.admitInvite('203.0.113.9')).toMatchObject({ kind: 'reject', reason: 'Service Unavailable (too many calls being set up)' });
    tickets[0]!.confirm();
    expect(ac.admitInvite('203.0.113.9').kind).toBe('accept');
    tickets[1]!.confirm();
    expect(ac.admitInvite('203.0.113.10')).toMatchObject({ kind: 'reject', reason: 'Service Unavailable (too many calls in progress)' });
    tickets[0]!.end();
    expect(ac.admitInvite('203.0.113.10').kind).toBe('accept');
    expect(ac.stats()).toMatchObject({ calls: 3, rejectedMaxCalls: 1, rejectedMaxHalfOpen: 1, accepted: 4 });
  });

  test('overload guard: while the loop is late and enough calls are up, new INVITEs get 503 + Retry-After', () => {
    let delayMs = 0;
    const ac = new AdmissionControl(
      { trustedSources: [], maxHalfOpenPerSource: 100, maxEventLoopDelayMs: 50, eventLoopGuardMinCalls: 2, retryAfterSeconds: 5 },
      new ManualClock(),
      { recentP99Ms: () => delayMs },
    );
    delayMs = 500;
    // Below eventLoopGuardMinCalls a late loop refuses nobody (a stall on a quiet server is not overload).
    const first = [ac.admitInvite(A), ac.admitInvite(B)];
    expect(first.map((r) => r.kind)).toEqual(['accept', 'accept']);
    expect(ac.admitInvite(A)).toEqual({ kind: 'reject', status: 503, reason: 'Service Unavailable (overloaded)', retryAfterSeconds: 5 });
    delayMs = 50; // at the bound, not beyond it
    expect(ac.admitInvite(A).kind).toBe('accept');
    delayMs = 51;
    expect(ac.admitInvite(B).kind).toBe('reject');
    expect(ac.stats()).toMatchObject({ calls: 3, rejectedLoopDelay: 2 });
    // 0 turns the guard off.
    const off = new AdmissionControl({ trustedSources: [], maxEventLoopDelayMs: 0, eventLoopGuardMinCalls: 0 }, new ManualClock(), { recentP99Ms: () => 1e6 });
    expect(off.admitInvite(A).kind).toBe('accept');
  });

  test('late-send guard: while the media sends too many frames late and enough calls are up, new INVITEs get 503', () => {
    let share = 0;
    const ac = new AdmissionControl(
      { trustedSources: [], maxHalfOpenPerSource: 100, maxLateSendShare: 0.02, eventLoopGuardMinCalls: 2, retryAfterSeconds: 7 },
      new ManualClock(),
      { recentP99Ms: () => 0 },
      { recentLateShare: () => share },
    );
    share = 0.5;
    expect([ac.admitInvite(A), ac.admitInvite(B)].map((r) => r.kind)).toEqual(['accept', 'accept']);
    expect(ac.admitInvite(A)).toEqual({ kind: 'reject', status: 503, reason: 'Service Unavailable (overloaded)', retryAfterSeconds: 7 });
    share = 0.02; // at the bound, not beyond it
    expect(ac.admitInvite(A).kind).toBe('accept');
    share = 0.021;
    expect(ac.admitInvite(B).kind).toBe('reject');
    expect(ac.stats()).toMatchObject({ calls: 3, rejectedLateSends: 2, rejectedLoopDelay: 0 });
    const off = new AdmissionControl({ trustedSources: [], maxLateSendShare: 0, eventLoopGuardMinCalls: 0 }, new ManualClock(), undefined, { recentLateShare: () => 1 });
    expect(off.admitInvite(A).kind).toBe('accept');
    expect(() => new AdmissionControl({ maxLateSendShare: 1.5 })).toThrow();
  });

  test('options are validated', () => {
    expect(() => new AdmissionControl({ burst: 0 })).toThrow();
    expect(() => new AdmissionControl({ maxCalls: 10, maxHalfOpen: 20 })).toThrow(/maxHalfOpen/);
    expect(AdmissionOptionsSchema.safeParse(DEFAULT_ADMISSION_OPTIONS).success).toBe(true);
  });
});

describe('bounded memory', () => {
  test('at most maxTrackedSources are kept; the least recently seen goes first', () => {
    const { ac } = control({ maxTrackedSources: 16 });
    for (let i = 0; i < 1000; i++) ac.checkRequest('OPTIONS', undefined, `10.0.${i >> 8}.${i & 255}`);
    expect(ac.stats().trackedSources).toBe(16);
    expect(ac.stats().evictedSources).toBe(1000 - 16);
  });

  test('idle sources are swept as requests come', () => {
    const { ac, clock } = control({ sourceIdleSeconds: 10 });
    for (let i = 0; i < 200; i++) ac.checkRequest('OPTIONS', undefined, `10.1.0.${i}`);
    clock.advance(11_000);
    for (let i = 0; i < 300; i++) ac.checkRequest('OPTIONS', undefined, B);
    expect(ac.stats().trackedSources).toBe(1);
  });

  test('a source with a call in progress is not swept, and its counts stay right', () => {
    const { ac, clock } = control({ sourceIdleSeconds: 10, maxHalfOpenPerSource: 1 });
    const t = ac.admitInvite(A);
    expect(t.kind).toBe('accept');
    clock.advance(11_000);
    for (let i = 0; i < 300; i++) ac.checkRequest('OPTIONS', undefined, B);
    expect(ac.stats().trackedSources).toBe(2);
    expect(ac.admitInvite(A).kind).toBe('reject');
  });
});
