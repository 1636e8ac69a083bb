/**
 * Wires the engine together: configuration → logger → store → prompts → SIP transport and user agent → call
 * router (deposit and dial-in flows) → e-mail worker, retention sweeper and the management API.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from './shared/log.js';
import type { Config } from './shared/config.js';
import { systemClock } from './shared/clock.js';
import { SipTransport } from './sip/transport/transport.js';
import { SipUserAgent } from './sip/user-agent.js';
import { AdmissionControl } from './sip/admission.js';
import { EventLoopDelayMonitor } from './sip/loop-delay.js';
import type { IncomingInvite } from './sip/incoming-invite.js';
import { LocalMediaSessions, MediaWorkerPool, RtpPortAllocator, type MediaSessionFactory } from './media/index.js';
import { LateSendMonitor } from './sip/late-send-monitor.js';
import { openStore, parseSqliteUrl, type Store } from './store/index.js';
import { PromptCatalog } from './ivr/prompts/catalog.js';
import { CallRouter } from './ivr/router.js';
import { recoverSpooledMessages } from './ivr/deposit/deposit-flow.js';
import { SpoolOwnership, defaultNodeId } from './ivr/deposit/spool-owner.js';
import { NotificationWorker } from './notify/worker.js';
import { RetentionSweeper } from './retention/sweeper.js';
import { createApiServer } from './api/server.js';
import { ensureWritableDir } from './ops/storage-dir.js';
import { collectEngineMetrics, createPrometheusMetrics, mediaRtpTotals, startEngineMetrics } from './metrics.js';
import { readOutboxBacklog, readRetentionDeletions } from './ops/outbox-backlog.js';
import { MwiNotifier } from './mwi/mwi-notifier.js';
import { UnsolicitedMwi } from './mwi/unsolicited-mwi.js';
import { userOf } from './ivr/call-target.js';

export interface RunningServer {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly sip: SipUserAgent;
  /** SIP admission control; `admission.stats()` gives its counters (for metrics). */
  readonly admission: AdmissionControl;
  readonly router: CallRouter;
  readonly sipPort: number;
  readonly apiPort: number | undefined;
  /** Refuses new calls (503) and waits for calls in progress, at most `shutdown.drainSeconds`; true if all ended. */
  drain(): Promise<boolean>;
  /** Drains, then stops everything. */
  close(): Promise<void>;
}

/** `sqlite:var/x.db` → make sure `var/` exists. */
function prepareSqlitePath(url: string): void {
  if (!url.startsWith('sqlite:')) return;
  const { path } = parseSqliteUrl(url);
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
}

/** First start on an empty store: the demo line, so `npm start` can take a message at once (README). */
async function provisionDemoLine(store: Store, config: Config, logger: Logger): Promise<void> {
  if (!config.demo.enabled) return;
  const existing = await store.lines.list({ limit: 1 });
  if (existing.length > 0) return;
  // Several nodes may start at once on one database: ensure() is atomic, exactly one of them creates the line.
  const { created } = await store.lines.ensure({ number: config.demo.line, routing: 'voicemail', pin: config.demo.pin, language: config.prompts.defaultLanguage });
  if (created) logger.info({ line: config.demo.line }, 'demo line provisioned (voicemail routing); see README for its PIN');
}

export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  // The one time source of the process: SIP timers, call deadlines, recorder, outbox polls, retention sweeps.
  const clock = systemClock;
  await ensureWritableDir(config.storage.dir, 'storage.dir');
  prepareSqlitePath(config.database.url);
  // Created before the store (whose queries it times); its store readers only run at scrape time.
  const metrics = createPrometheusMetrics({ outbox: () => readOutboxBacklog(store), retentionDeletions: () => readRetentionDeletions(store) });
  const store = await openStore(config.database.url, { logger, onQueryDuration: metrics.storeQueryDuration });
  await provisionDemoLine(store, config, logger);
  const prompts = await PromptCatalog.load(resolve(config.prompts.dir));

  const worker = NotificationWorker.fromConfig(config, store, { logger, clock });
  const sweeper = RetentionSweeper.fromConfig(config, store, { logger, clock });
  // Messages whose recording was cut by a crash are stored before new calls come in.
  // Several nodes may share storage.dir: this one records into its own spool dir and only recovers dead nodes'.
  const spoolOwnership = await SpoolOwnership.claim(config.storage.dir, config.node.id || defaultNodeId(), logger).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const recovered = await recoverSpooledMessages({ store, config, logger, ownership: spoolOwnership });
  if (recovered.length > 0) logger.warn({ recovered }, 'recovered messages interrupted by a crash');

  const transport = new SipTransport({
    host: config.sip.host,
    port: config.sip.port,
    transports: config.sip.transports,
    maxMessageBytes: config.sip.maxMessageBytes,
    maxHeaders: config.sip.maxHeaders,
    logger,
    ...(config.sip.publicHost ? { advertisedHost: config.sip.publicHost } : {}),
  });
  await transport.start();
  const loopDelay = config.admission.maxEventLoopDelayMs > 0 ? new EventLoopDelayMonitor() : undefined;
  const rtpSockets = { host: config.rtp.host, recvBufferSize: config.rtp.socketBufferBytes, sendBufferSize: config.rtp.socketBufferBytes };
  // media.workers = 0: calls' RTP on this thread; N: in N media worker threads, each owning 1/N of the port range.
  const workerMedia =
    config.media.workers > 0
      ? new MediaWorkerPool({ workers: config.media.workers, youngGenerationMb: config.media.workerYoungGenerationMb, portMin: config.rtp.portMin, portMax: config.rtp.portMax, ...rtpSockets, logger })
      : undefined;
  // Frames sent late by every media thread: this one's players, plus the workers' as of their last report.
  const lateSends = config.admission.maxLateSendShare > 0 ? new LateSendMonitor({ totals: () => mediaRtpTotals(workerMedia) }) : undefined;
  const admission = new AdmissionControl(config.admission, clock, loopDelay, lateSends);
  const sip = new SipUserAgent({ transport, logger, admission, clock, ...(config.sip.publicHost ? { publicHost: config.sip.publicHost } : {}) });
  const media: MediaSessionFactory = workerMedia ?? new LocalMediaSessions(new RtpPortAllocator(config.rtp.portMin, config.rtp.portMax), rtpSockets, clock);
  if (workerMedia) {
    metrics.useWorkerMedia(workerMedia);
    logger.info({ workers: config.media.workers, shares: workerMedia.shares.map((w) => `${w.portMin}-${w.portMax}`) }, 'media in worker threads');
  }
  const router = new CallRouter({ store, prompts, config, logger, media, metrics: metrics.calls, clock });
  sip.on('invite', (invite: IncomingInvite) => void router.handle(invite));
  const mwiAccountHost = config.sip.publicHost || (config.sip.host === '0.0.0.0' || config.sip.host === '::' ? 'localhost' : config.sip.host);
  const mwi = new MwiNotifier({
    ua: sip,
    logger,
    options: config.mwi,
    accountHost: mwiAccountHost,
    counts: (line) => store.messages.countByDir(line),
    lineOf: async (uri) => {
      const n = userOf(uri, config.voicemail.countryCode);
      return n !== undefined && (await store.lines.find(n).catch(() => undefined)) !== undefined ? n : undefined;
    },
  });
  sip.onSubscribe((req, source, tx) => mwi.handleSubscribe(req, source, tx));
  sip.onRegister((req, source, tx) => mwi.handleRegister(req, source, tx));
  const unsolicitedMwi = new UnsolicitedMwi({
    ua: sip,
    logger,
    accountHost: mwiAccountHost,
    coalesceMs: config.mwi.coalesceMs,
    clock,
    contacts: (line) => store.mwiContacts.list(line),
    counts: (line) => store.messages.countByDir(line),
  });
  store.events.on('mailboxChanged', (line: string) => {
    mwi.mailboxChanged(line);
    unsolicitedMwi.mailboxChanged(line);
  });
  void unsolicitedMwi.start();

  worker.start();
  sweeper.start();
  let api: FastifyInstance | undefined;
  let apiPort: number | undefined;
  if (config.api.enabled) {
    startEngineMetrics();
    api = await createApiServer({ store, config, logger, readiness: { sipBound: () => transport.port > 0, draining: () => sip.draining }, prometheus: metrics.registry, engineMetrics: () => collectEngineMetrics(workerMedia) });
    await api.listen({ host: config.api.host, port: config.api.port });
    const addr = api.server.address();
    apiPort = typeof addr === 'object' && addr ? addr.port : config.api.port;
  }

  logger.info(
    { sip: `${config.sip.host}:${transport.port}`, transports: config.sip.transports, api: apiPort ? `http://${config.api.host}:${apiPort}/` : null, mail: worker.transportDescription },
    'repondeur listening',
  );
  let drained: Promise<boolean> | undefined;
  const drain = (): Promise<boolean> =>
    (drained ??= (async () => {
      const retryAfter = Math.max(1, Math.ceil(config.shutdown.drainSeconds));
      sip.drain(retryAfter);
      logger.info({ activeCalls: router.activeCalls, drainSeconds: config.shutdown.drainSeconds }, 'draining: new calls get 503, waiting for calls in progress');
      const idle = await router.whenIdle(config.shutdown.drainSeconds * 1000);
      if (idle) logger.info('drained: no call in progress');
      else logger.warn({ activeCalls: router.activeCalls }, 'drain time-out: ending the remaining calls');
      return idle;
    })());
  return {
    config,
    logger,
    store,
    sip,
    admission,
    router,
    sipPort: transport.port,
    apiPort,
    drain,
    async close() {
      await drain();
      await mwi.close();
      await unsolicitedMwi.close();
      await sip.shutdown();
      await media.stop();
      await transport.stop();
      await api?.close();
      sweeper.stop();
      loopDelay?.stop();
      lateSends?.stop();
      await worker.stop();
      await store.close();
      await spoolOwnership.release();
      logger.flush?.();
    },
  };
}
