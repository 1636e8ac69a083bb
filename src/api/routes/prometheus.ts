import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * `GET /metrics` (operator bearer token): the engine's metrics in the Prometheus text exposition format, for a
 * Prometheus scrape job with `authorization: { credentials: <api.operatorToken> }`. The JSON snapshot that
 * `npm run bench` reads stays at `/api/v1/metrics`.
 */
export function registerPrometheusRoute(app: FastifyInstance, registry: Registry): void {
  app.get(
    '/metrics',
    {
      config: {
        access: 'operator',
        doc: { summary: 'Prometheus metrics (text exposition format 0.0.4)', tags: ['meta'], success: { status: 200, description: 'Metrics' } },
      },
    },
    async (_request, reply) => reply.header('Content-Type', registry.contentType).send(await registry.metrics()),
  );
}
