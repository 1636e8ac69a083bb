/**
 * Process-wide engine metrics for operators and `npm run bench`: prompt send lateness (the shared pacing
 * scheduler), event-loop delay, open UDP sockets (one per RTP session, plus the SIP listener), memory and CPU.
 * Everything is read on demand; nothing here runs on the packet path.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { sharedPacingScheduler, type PacingStatsSnapshot } from './media/index.js';

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
}

let loopDelay: IntervalHistogram | undefined;

/** Starts the event-loop delay histogram (idempotent); called when the metrics route is registered. */
export function startEngineMetrics(): void {
  if (loopDelay) return;
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
}

const NS_PER_MS = 1e6;

/** A snapshot of the engine's metrics. */
export function collectEngineMetrics(): EngineMetrics {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const h = loopDelay;
  let udp = 0;
  for (const r of process.getActiveResourcesInfo()) if (r === 'UDPWrap') udp++;
  return {
    uptimeSeconds: process.uptime(),
    pacing: { ...sharedPacingScheduler.stats.snapshot(), pendingJobs: sharedPacingScheduler.size },
    eventLoopDelay: h
      ? { meanMs: h.mean / NS_PER_MS, p50Ms: h.percentile(50) / NS_PER_MS, p99Ms: h.percentile(99) / NS_PER_MS, maxMs: h.max / NS_PER_MS }
      : { meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    openUdpSockets: udp,
    memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, externalBytes: mem.external, arrayBuffersBytes: mem.arrayBuffers },
    cpu: { userMicros: cpu.user, systemMicros: cpu.system },
  };
}
