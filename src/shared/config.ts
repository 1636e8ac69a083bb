import { z } from 'zod';

/**
 * The shape of the configuration, for every layer: the zod schema and the types inferred from it. The sections
 * of the layers (admission control, MWI) are declared here and each layer imports its options' type from here —
 * the configuration depends on no layer. Reading, merging and validating the files is `config/load.ts`, which only
 * the composition root uses.
 */

/** SIP admission control options (src/sip/admission.ts): per-source rate and half-open limits, global call caps. */
export const AdmissionOptionsSchema = z
  .object({
    enabled: z.boolean(),
    /** Requests per second a source may send, sustained (the token bucket's refill rate). */
    ratePerSecond: z.number().positive(),
    /** Requests a source may send at once (the bucket's size). */
    burst: z.number().int().min(1),
    /** Refusals (503) a rate-limited source gets before it is dropped silently until its bucket is full again. */
    dropAfterRefusals: z.number().int().min(0),
    /** INVITEs from one source not yet answered or answered 2xx but not yet ACKed. */
    maxHalfOpenPerSource: z.number().int().min(1),
    /** Calls (INVITE accepted by admission, until the dialog or the transaction ends) at once, all sources. */
    maxCalls: z.number().int().min(1),
    /** Calls not yet ACKed at once, all sources. */
    maxHalfOpen: z.number().int().min(1),
    /** New INVITEs are refused while the event loop's recent p99 delay (beyond its 10 ms sampling) exceeds this; 0: never. */
    maxEventLoopDelayMs: z.number().min(0),
    /** The event-loop guard only refuses calls while at least this many are up (a stall on a quiet server is not overload). */
    eventLoopGuardMinCalls: z.number().int().min(0),
    /**
     * New INVITEs are refused while more than this share (0…1) of the RTP frames sent over the last second left more
     * than 10 ms after their schedule (the media is falling behind); 0: never. Needs eventLoopGuardMinCalls calls up too.
     */
    maxLateSendShare: z.number().min(0).max(1),
    /** Sources whose counters are kept at once (least recently seen forgotten first). */
    maxTrackedSources: z.number().int().min(16),
    /** A source not heard from this long, with no call in progress, is forgotten. */
    sourceIdleSeconds: z.number().positive(),
    /** Retry-After (seconds) of the 503 responses. */
    retryAfterSeconds: z.number().int().min(1).max(3600),
    /** User-Agent substrings (case-insensitive) whose requests are dropped without an answer. */
    scannerUserAgents: z.array(z.string().min(1)),
    /** Addresses exempt from the per-source limits (a trusted proxy such as Kamailio in front of us). */
    trustedSources: z.array(z.string().min(1)),
  })
  .strict()
  .refine((o) => o.maxHalfOpen <= o.maxCalls, { message: 'maxHalfOpen must not exceed maxCalls', path: ['maxHalfOpen'] });

export type AdmissionOptions = z.infer<typeof AdmissionOptionsSchema>;

/** Message-waiting indication options (src/mwi/mwi-notifier.ts): subscription durations granted, seconds. */
export const MwiOptionsSchema = z
  .object({
    /** Shortest subscription accepted (423 Interval Too Brief with Min-Expires below it), seconds. */
    minExpires: z.number().int().min(1).max(86400),
    /** Longest subscription granted (longer requests are shortened), seconds. */
    maxExpires: z.number().int().min(1).max(604800),
    /** Granted when the SUBSCRIBE has no Expires (RFC 6665 §4.1.2.1: the event package's default; RFC 3842: 3600). */
    defaultExpires: z.number().int().min(1).max(604800),
    /** Changes of one line within this many ms are sent as one NOTIFY. */
    coalesceMs: z.number().int().min(0).max(60000).default(100),
    /**
     * SIP sources (IP addresses: phones, or the proxy in front that authenticates them) allowed to SUBSCRIBE and to
     * REGISTER. Empty (the default): any source may SUBSCRIBE — as any may call — and REGISTER is refused (405).
     * Listed sources also get 200 to REGISTER (no binding kept: répondeur routes nothing to phones), which is what
     * softphones whose MWI only subscribes after a successful registration (baresip) need.
     */
    trustedSources: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((o) => o.minExpires <= o.maxExpires, { error: 'mwi.minExpires must not exceed mwi.maxExpires' });
export type MwiOptions = z.input<typeof MwiOptionsSchema>;
import { DialInKeysSchema } from './dialin-keys.js';

/** The whole configuration, validated at start-up. Every key has a default in config/default.json. */
export const ConfigSchema = z
  .object({
    sip: z
      .object({
        host: z.string().min(1),
        /** 0 picks a free port (UDP and TCP share it); the log line 'repondeur listening' tells which. */
        port: z.number().int().min(0).max(65535),
        transports: z.array(z.enum(['udp', 'tcp'])).min(1),
        /** Host advertised in Contact/Via when it differs from the bind address (empty: the bind address). */
        publicHost: z.string(),
        maxMessageBytes: z.number().int().min(1024).max(1048576),
        maxHeaders: z.number().int().min(16).max(4096),
        /** Ring (180) this long before answering; 0 answers at once. */
        answerDelayMs: z.number().int().min(0).max(60000),
        /** Proxies (IP addresses) whose Via received/sent-by is believed for the caller's address (PIN-failure `remote`). */
        trustedProxies: z.array(z.string().min(1)),
      })
      .strict(),
    rtp: z
      .object({
        host: z.string().min(1),
        publicHost: z.string(),
        portMin: z.number().int().min(1024).max(65534),
        portMax: z.number().int().min(1025).max(65535),
        socketBufferBytes: z.number().int().min(0),
      })
      .strict()
      .refine((r) => r.portMin < r.portMax, { message: 'rtp.portMin must be below rtp.portMax', path: ['portMin'] }),
    /**
     * Media threads: 0 runs every call's RTP (sockets, pacing, recording, DTMF detection) on the SIP thread; N >= 1
     * runs it in N worker threads, each owning 1/N of rtp.portMin..portMax (src/media/worker/). `workerYoungGenerationMb`:
     * V8's young generation of each worker in MiB (0: V8's default); small keeps the workers' RSS small.
     */
    media: z.object({ workers: z.number().int().min(0).max(64), workerYoungGenerationMb: z.number().int().min(0).max(1024) }).strict(),
    /** SIP admission control: per-source rate and half-open limits, global call caps, scanner drops (src/sip/admission.ts). */
    admission: AdmissionOptionsSchema,
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }).strict(),
    database: z.object({ url: z.string().regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must start with sqlite: or postgres://') }).strict(),
    storage: z.object({ dir: z.string().min(1) }).strict(),
    /** This node's id, naming its spool dir under storage.dir (empty: `<hostname>-<pid>`); see deploy/kamailio/README.md. */
    node: z.object({ id: z.string().regex(/^([A-Za-z0-9._-]{1,64})?$/, 'must be empty or 1-64 of A-Z a-z 0-9 . _ -') }).strict(),
    prompts: z.object({ dir: z.string().min(1), defaultLanguage: z.enum(['fr', 'en']) }).strict(),
    voicemail: z
      .object({
        dialInNumbers: z.array(z.string().regex(/^\+?\d{3,20}$/)).min(1),
        countryCode: z.string().regex(/^\d{1,3}$/),
        maxMessageSeconds: z.number().int().min(1).max(3600),
        silenceSeconds: z.number().min(0).max(600),
        minMessageSeconds: z.number().min(0).max(60),
        /** SIP URI that calls to fax-routed lines are redirected to (302); empty: 480. */
        faxDestination: z.string(),
        /** Time zone in which dates are spoken and written (envelopes, e-mails). */
        timeZone: z.string().refine((tz) => {
          try {
            new Intl.DateTimeFormat('en', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        }, 'must be an IANA time zone such as Europe/Paris'),
      })
      .strict(),
    /** PIN lockout shared by the dial-in service and the web login: maxFailures within windowSeconds lock for lockSeconds. */
    lockout: z
      .object({ maxFailures: z.number().int().min(1), windowSeconds: z.number().positive(), lockSeconds: z.number().min(0) })
      .strict(),
    demo: z.object({ enabled: z.boolean(), line: z.string(), pin: z.string().regex(/^\d{4,10}$/) }).strict(),
    api: z
      .object({
        enabled: z.boolean(),
        host: z.string(),
        port: z.number().int().min(0).max(65535),
        operatorToken: z.string(),
        /** OVH-compatible API (/1.0): the applications (key + secret) allowed to sign requests. */
        ovhApplications: z
          .array(z.object({ key: z.string().min(8), secret: z.string().min(16), name: z.string().optional() }).strict())
          .max(100)
          .default([]),
        /** Reverse proxies (IPs or CIDRs) whose X-Forwarded-Proto/-Host/-For are believed. */
        trustedProxies: z.array(z.string().min(1)).default([]),
      })
      .strict(),
    smtp: z.object({ url: z.string(), from: z.string(), fromName: z.string() }).strict(),
    retention: z
      .object({
        maxMessages: z.number().int().min(1),
        maxAgeDays: z.number().min(1),
        sweepIntervalSeconds: z.number().int().min(1),
      })
      .strict(),
    /** SIGTERM: refuse new calls (503) and let calls in progress finish for at most drainSeconds. */
    shutdown: z.object({ drainSeconds: z.number().min(0).max(3600) }).strict(),
    /** How long a claimed notification is reserved to its sender before another may take it (crash of a sender). */
    outbox: z.object({ leaseSeconds: z.number().int().min(240, 'must be at least 240 (twice the 2 min send time-out)') }).strict(),
    /** Message-waiting indication (RFC 3842 SUBSCRIBE/NOTIFY): subscription durations granted, seconds. */
    mwi: MwiOptionsSchema,
    /** The dial-in menus' keys per menu and action (Asterisk's by default); see src/shared/dialin-keys.ts. */
    dialin: z.object({ keys: DialInKeysSchema }).strict(),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

/**
 * The PIN lockout policy shared by the dial-in service and the web login, in the store's units (ms):
 * `maxFailures` failures within `windowMs` lock the line for `lockMs` after the last of them.
 */
export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

/** The lockout policy of the `lockout` section (seconds) in the store's units. */
export function lockoutPolicy(config: Pick<Config, 'lockout'>): LockoutPolicy {
  return {
    maxFailures: config.lockout.maxFailures,
    windowMs: Math.max(1, Math.round(config.lockout.windowSeconds * 1000)),
    lockMs: Math.round(config.lockout.lockSeconds * 1000),
  };
}
