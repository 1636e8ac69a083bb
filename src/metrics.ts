/**
 * Part of the composition root, not of the shared kernel: it reads the media layer's counters (the pacing
 * scheduler, the RTP packet totals) and implements the ports the layers report through (ivr's
 * {@link CallMetricsSink}, ops' {@link OutboxBacklog}), so it sits above them; the shared kernel imports no layer.
 * No layer imports it: server.ts builds the Prometheus registry and hands the API {@link collectEngineMetrics}.
 *
 * Process-wide engine metrics for operators and `npm run bench`: prompt send lateness (the shared pacing
 * scheduler), event-loop delay, open UDP sockets (one per RTP session, plus the SIP listener), memory and CPU.
 * Everything is read on demand; nothing here runs on the packet path.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallMetricsSink } from './ivr/call-metrics.js';
import { unsolicitedNotifyTotals } from './mwi/unsolicited-mwi.js';
import { LATE_SEND_THRESHOLD_MS, PacingStats, rtpPacketTotals, sharedPacingScheduler, type PacingStatsSnapshot, type RtpPacketTotals } from './media/index.js';
import type { OutboxBacklog } from './ops/outbox-backlog.js';

export interface EngineMetrics {
  /** Process uptime in seconds. */
  uptimeSeconds: number;
  /** Send lateness of every prompt frame since start (cumulative: diff two snapshots' histograms for a window). */
  pacing: PacingStatsSnapshot & { pendingJobs: number };
  /** Event-loop delay since start, in ms (perf_hooks, 10 ms resolution). */
  eventLoopDelay: { meanMs: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Open UDP sockets: the RTP sessions of the calls in progress plus the SIP UDP listener. */
  openUdpSockets: number;
  memory: { rssBytes: number; heapUsedBytes: number; externalBytes: number; arrayBuffersBytes: number };
  /** CPU time used by the process since start, in microseconds. */
  cpu: { userMicros: number; systemMicros: number };
  /** RTP packet totals since start (received, sent, sent more than LATE_SEND_THRESHOLD_MS after schedule, lost). */
  rtp: RtpPacketTotals & { lateThresholdMs: number };
}

/** What the media worker pool reports of its threads (media.workers ≥ 1): counters as of their last report. */
export interface WorkerMediaStats {
  rtpTotals(): RtpPacketTotals;
  pacingStats(): { stats: PacingStats; pendingJobs: number };
}

/** RTP totals of this thread plus those of the media workers (metrics, and admission's late-send guard). */
export function mediaRtpTotals(workers: WorkerMediaStats | undefined): RtpPacketTotals {
  if (!workers) return { ...rtpPacketTotals };
  const w = workers.rtpTotals();
  return { received: rtpPacketTotals.received + w.received, sent: rtpPacketTotals.sent + w.sent, sentLate: rtpPacketTotals.sentLate + w.sentLate, lost: rtpPacketTotals.lost + w.lost };
}

/** Prompt pacing of this thread's scheduler merged with the media workers'. */
function mediaPacing(workers: WorkerMediaStats | undefined): PacingStatsSnapshot & { pendingJobs: number } {
  if (!workers) return { ...sharedPacingScheduler.stats.snapshot(), pendingJobs: sharedPacingScheduler.size };
  const { stats, pendingJobs } = workers.pacingStats();
  const merged = new PacingStats();
  merged.add(sharedPacingScheduler.stats);
  merged.add(stats);
  return { ...merged.snapshot(), pendingJobs: pendingJobs + sharedPacingScheduler.size };
}

let loopDelay: IntervalHistogram | undefined;

/** Starts the event-loop delay histogram (idempotent); called when the metrics route is registered. */
export function startEngineMetrics(): void {
  if (loopDelay) return;
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
}

const NS_PER_MS = 1e6;

/** A snapshot of the engine's metrics; `workers`: the media worker pool, when media runs in workers. */
export function collectEngineMetrics(workers?: WorkerMediaStats): EngineMetrics {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const h = loopDelay;
  let udp = 0;
  for (const r of process.getActiveResourcesInfo()) if (r === 'UDPWrap') udp++;
  return {
    uptimeSeconds: process.uptime(),
    pacing: mediaPacing(workers),
    eventLoopDelay: h
      ? { meanMs: h.mean / NS_PER_MS, p50Ms: h.percentile(50) / NS_PER_MS, p99Ms: h.percentile(99) / NS_PER_MS, maxMs: h.max / NS_PER_MS }
      : { meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    openUdpSockets: udp,
    memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, externalBytes: mem.external, arrayBuffersBytes: mem.arrayBuffers },
    cpu: { userMicros: cpu.user, systemMicros: cpu.system },
    rtp: { ...mediaRtpTotals(workers), lateThresholdMs: LATE_SEND_THRESHOLD_MS },
  };
}

// ---- Prometheus (GET /metrics, text exposition format) ----------------------------------------------------------

export interface PrometheusMetrics {
  readonly registry: Registry;
  readonly calls: CallMetricsSink;
  /** The store's query-duration hook (openStore `onQueryDuration`), in ms. */
  readonly storeQueryDuration: (durationMs: number) => void;
  /** From now on the RTP and pacing metrics include the media workers'. */
  useWorkerMedia(workers: WorkerMediaStats): void;
}

/** Counters whose value is read at scrape time from a plain integer kept elsewhere (no prom-client call per event). */
function readAtScrape(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function registerRtpCounters(registry: Registry, totals: Readonly<RtpPacketTotals>): void {
  readAtScrape(registry, 'repondeur_rtp_packets_received_total', 'RTP packets received, all calls', () => totals.received);
  readAtScrape(registry, 'repondeur_rtp_packets_sent_total', 'RTP packets sent (prompts, silence, comfort noise), all calls', () => totals.sent);
  readAtScrape(registry, 'repondeur_rtp_packets_sent_late_total', `RTP packets sent more than ${LATE_SEND_THRESHOLD_MS} ms after their schedule`, () => totals.sentLate);
  readAtScrape(registry, 'repondeur_rtp_packets_lost_total', 'RTP packets missing from the received sequence numbers (RFC 3550 A.3), added when each call ends', () => totals.lost);
}

/**
 * A registry with the process metrics (prom-client defaults: event-loop delay from monitorEventLoopDelay, memory,
 * CPU, handles), the call counters, the outbox backlog (read from the store at each scrape) and the prompt pacing
 * lateness.
 */
export function createPrometheusMetrics(
  opts: { outbox?: () => Promise<OutboxBacklog>; retentionDeletions?: () => Promise<Record<string, number>>; rtpTotals?: Readonly<RtpPacketTotals> } = {},
): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'repondeur_process_', eventLoopMonitoringPrecision: 10 });
  const active = new Gauge({ name: 'repondeur_active_calls', help: 'Calls in progress, by kind', labelNames: ['kind'], registers: [registry] });
  const setups = new Counter({ name: 'repondeur_call_setups_total', help: 'Calls answered, by kind', labelNames: ['kind'], registers: [registry] });
  const failures = new Counter({ name: 'repondeur_call_failures_total', help: 'Calls refused or failed, by cause', labelNames: ['cause'], registers: [registry] });
  const deposits = new Counter({ name: 'repondeur_deposits_total', help: 'Deposits finished, by outcome', labelNames: ['outcome'], registers: [registry] });
  for (const kind of ['deposit', 'dialin']) {
    active.set({ kind }, 0);
    setups.inc({ kind }, 0);
  }
  for (const outcome of ['stored', 'discarded-too-short', 'hangup-before-beep', 'not-recorded']) deposits.inc({ outcome }, 0);
  const dialIn = new Counter({ name: 'repondeur_dialin_auth_total', help: 'Dial-in authentications, by outcome (logins, refusals after failures, lockouts)', labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['login-pin', 'login-caller-id', 'refused-too-many-tries', 'refused-locked']) dialIn.inc({ outcome }, 0);
  const pinFailures = new Counter({ name: 'repondeur_dialin_pin_failures_total', help: 'Wrong line numbers or PINs typed on dial-in calls', registers: [registry] });
  let workerMedia: WorkerMediaStats | undefined;
  const totals: Readonly<RtpPacketTotals> = opts.rtpTotals ?? {
    get received() {
      return mediaRtpTotals(workerMedia).received;
    },
    get sent() {
      return mediaRtpTotals(workerMedia).sent;
    },
    get sentLate() {
      return mediaRtpTotals(workerMedia).sentLate;
    },
    get lost() {
      return mediaRtpTotals(workerMedia).lost;
    },
  };
  registerRtpCounters(registry, totals);
  const storeQueries = new Histogram({
    name: 'repondeur_store_query_seconds',
    help: 'Duration of the store queries (SQLite or PostgreSQL), from Kysely',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'repondeur_prompt_frames_late_max_ms',
    help: 'Largest send lateness of a prompt frame since start, in ms',
    registers: [registry],
    collect() {
      this.set(mediaPacing(workerMedia).maxLatenessMs);
    },
  });
  new Counter({
    name: 'repondeur_mwi_unsolicited_notify_total',
    help: 'Unsolicited MWI NOTIFYs to the lines’ configured contacts, by outcome (accepted 2xx, rejected ≥300, failed: no answer)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(unsolicitedNotifyTotals)) this.inc({ outcome }, n);
    },
  });
  if (opts.retentionDeletions) {
    const read = opts.retentionDeletions;
    new Counter({
      name: 'repondeur_retention_deletions_total',
      help: 'Messages deleted automatically, by reason (from the retention log)',
      labelNames: ['reason'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [reason, n] of Object.entries(await read())) this.inc({ reason }, n);
      },
    });
  }
  if (opts.outbox) {
    const read = opts.outbox;
    const oldest = new Gauge({ name: 'repondeur_outbox_oldest_pending_age_seconds', help: 'Age of the oldest pending notification (0: none)', registers: [registry] });
    // One store query per scrape feeds both gauges (the outbox gauge is collected before the age gauge is read).
    new Gauge({
      name: 'repondeur_outbox_jobs',
      help: 'Notification jobs in the outbox, by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const backlog = await read();
        for (const status of ['pending', 'failed', 'sent'] as const) this.set({ status }, backlog.counts[status] ?? 0);
        oldest.set(backlog.oldestPendingAt === null ? 0 : Math.max(0, (Date.now() - backlog.oldestPendingAt) / 1000));
      },
    });
  }
  return {
    registry,
    calls: {
      callStarted: (kind) => {
        active.inc({ kind });
        setups.inc({ kind });
      },
      callEnded: (kind) => active.dec({ kind }),
      callFailed: (cause) => failures.inc({ cause }),
      depositFinished: (outcome) => deposits.inc({ outcome }),
      dialInAuth: (outcome) => dialIn.inc({ outcome }),
      dialInPinFailure: () => pinFailures.inc(),
    },
    storeQueryDuration: (durationMs) => storeQueries.observe(durationMs / 1000),
    useWorkerMedia: (workers) => void (workerMedia = workers),
  };
}
