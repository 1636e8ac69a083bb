import type { FastifyInstance } from 'fastify';

/**
 * `GET /metrics` (operator): the engine's load figures — prompt send lateness histogram (p50/p99/p99.9),
 * event-loop delay, open UDP sockets (≈ calls in progress), RSS and CPU time. `npm run bench` polls it.
 * `snapshot` is the composition root's `collectEngineMetrics` (src/metrics.ts).
 */
export function registerMetricsRoutes(app: FastifyInstance, snapshot: () => object): void {
  app.get(
    '/metrics',
    {
      config: {
        access: 'operator',
        doc: { summary: 'Engine metrics: pacing lateness, event-loop delay, open sockets, memory, CPU', tags: ['meta'], success: { status: 200, description: 'A metrics snapshot' } },
      },
    },
    async () => snapshot(),
  );
}
