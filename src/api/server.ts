import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ConfigSchema, type Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import { Store } from '../store/index.js';
import { Authenticator, SessionRegistry } from './auth.js';
import type { ApiContext } from './context.js';
import { toErrorResponse } from './errors.js';
import { OpenApiCollector } from './openapi.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerGreetingRoutes } from './routes/greetings.js';
import { registerLineRoutes } from './routes/lines.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { OVH_PREFIX, registerOvhRoutes } from './routes/ovh/index.js';
import { registerHealthRoutes, type ReadinessSource } from './routes/health.js';
import { registerPrometheusRoute } from './routes/prometheus.js';
import { registerOutboxRoutes } from './routes/outbox.js';
import { registerMwiContactRoutes } from './routes/mwi-contacts.js';
import type { Registry } from 'prom-client';
import { registerVoicemailRoutes } from './routes/voicemail.js';
import { lineParamSchema, zodValidatorCompiler } from './validation.js';
import { registerWebAssets } from './web-assets.js';
import { registerWebSecurity } from './web-security.js';

export const API_PREFIX = '/api/v1';
/** Largest greeting upload accepted by default (413 beyond). */
export const DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

export interface ApiServerOptions {
  store: Store;
  config: Config;
  logger: Logger;
  /** Epoch-ms clock for sessions and the PIN lockout (default Date.now). */
  clock?: () => number;
  /** Greeting upload limit in bytes (default 20 MiB). */
  maxUploadBytes?: number;
  /** What `/readyz` reports beside the store (SIP bound, draining); absent: only the store is checked. */
  readiness?: ReadinessSource;
  /** The Prometheus registry served at `GET /metrics` (operator); absent: no such route. */
  prometheus?: Registry;
  /**
   * The engine's load snapshot served at `GET /api/v1/metrics` (operator): the composition root passes
   * metrics.ts's `collectEngineMetrics` (the API does not import the root); absent: no such route.
   */
  engineMetrics?: () => object;
}

const OptionsSchema = z.object({
  store: z.instanceof(Store, { error: 'store must be a Store (openStore)' }),
  config: ConfigSchema,
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).child === 'function', {
    error: 'logger must be a pino logger',
  }),
  clock: z.custom<() => number>((v) => typeof v === 'function', { error: 'clock must be a function' }).optional(),
  maxUploadBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).optional(),
  prometheus: z.custom<Registry>((v) => typeof v === 'object' && v !== null, { error: 'prometheus must be a prom-client Registry' }).optional(),
  engineMetrics: z.custom<() => object>((v) => typeof v === 'function', { error: 'engineMetrics must be a function' }).optional(),
  readiness: z.custom<ReadinessSource>((v) => typeof v === 'object' && v !== null, { error: 'readiness must be { sipBound(), draining() }' }).optional(),
});

/**
 * The management API (`/api/v1`, OpenAPI at `/api/v1/openapi.json`, reference page at `/docs`) and the web
 * manager (`/`) in one Fastify app, ready but not listening: the caller runs `app.listen()`.
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const checked = OptionsSchema.safeParse(options);
  if (!checked.success) {
    throw new TypeError(`createApiServer: ${checked.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`);
  }
  const { store, config } = options;
  const logger = options.logger.child({ component: 'api' });
  const clock = options.clock ?? Date.now;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const sessions = new SessionRegistry(clock);
  const authenticator = new Authenticator(config.api.operatorToken, sessions);
  const openapi = new OpenApiCollector();
  const ctx: ApiContext = { store, config, logger, clock, sessions, lineParam: lineParamSchema(config.voicemail.countryCode) };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request logs would double the I/O of every poll of the web manager; failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // X-Forwarded-Proto/-Host/-For are believed only from these addresses (config api.trustedProxies).
    trustProxy: config.api.trustedProxies.length > 0 ? config.api.trustedProxies : false,
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler((err, request, reply) => {
    const { status, body, headers } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err, url: request.url, method: request.method }, 'API request failed');
    return reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` }),
  );
  app.addHook('onRoute', openapi.onRoute);
  registerWebSecurity(app);
  app.addHook('onRequest', async (request, reply) => {
    // Unknown URLs answer 404 to everyone; the 404 handler's route has no access rule.
    if (request.is404) return;
    await authenticator.onRequest(request, reply);
  });
  await app.register(multipart, { limits: { fileSize: maxUploadBytes, files: 1, fields: 4 }, throwFileSizeLimit: true });

  await app.register(
    async (api) => {
      registerAuthRoutes(api, ctx);
      registerLineRoutes(api, ctx);
      registerVoicemailRoutes(api, ctx);
      registerGreetingRoutes(api, ctx, maxUploadBytes);
      registerMessageRoutes(api, ctx);
      if (options.engineMetrics) registerMetricsRoutes(api, options.engineMetrics);
      registerOutboxRoutes(api, ctx);
      registerMwiContactRoutes(api, ctx);
      api.get(
        '/openapi.json',
        {
          config: {
            access: 'public',
            doc: { summary: 'This OpenAPI document', tags: ['meta'], success: { status: 200, description: 'OpenAPI 3.1' } },
          },
        },
        async () => openapi.document({ title: 'répondeur management API', version: '1' }),
      );
    },
    { prefix: API_PREFIX },
  );
  await app.register(async (ovh) => void registerOvhRoutes(ovh, ctx, { maxUploadBytes }), { prefix: OVH_PREFIX });
  registerHealthRoutes(app, store, options.readiness);
  if (options.prometheus) registerPrometheusRoute(app, options.prometheus);
  registerWebAssets(app);
  return app;
}
