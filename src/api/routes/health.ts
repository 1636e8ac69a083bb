import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Store } from '../../store/index.js';

/** What the rest of the engine tells the readiness probe. */
export interface ReadinessSource {
  /** The SIP transport is bound and listening. */
  sipBound(): boolean;
  /** SIGTERM received: new calls are refused while calls in progress finish. */
  draining(): boolean;
}

/** Longest a readiness probe waits for the store before calling it unreachable. */
const STORE_PROBE_TIMEOUT_MS = 2000;

async function storeReachable(store: Store): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(store.db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${STORE_PROBE_TIMEOUT_MS} ms`)), STORE_PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the store answers a query, SIP is
 * bound and the engine is not draining; 503 otherwise, with the failing checks). Public, at the root, for load
 * balancers and orchestrators.
 */
export function registerHealthRoutes(app: FastifyInstance, store: Store, readiness: ReadinessSource | undefined): void {
  app.get(
    '/healthz',
    { config: { access: 'public', doc: { summary: 'Liveness: the process is up', tags: ['meta'], success: { status: 200, description: 'Up' } } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: {
        access: 'public',
        doc: { summary: 'Readiness: store reachable, SIP bound, not draining', tags: ['meta'], success: { status: 200, description: 'Ready (503 when not)' } },
      },
    },
    async (_request, reply) => {
      const db = await storeReachable(store);
      const checks = {
        store: db.ok ? 'ok' : `unreachable: ${db.error}`,
        sip: !readiness || readiness.sipBound() ? 'ok' : 'not bound',
        draining: readiness?.draining() ?? false,
      };
      const ready = db.ok && checks.sip === 'ok' && !checks.draining;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
}
