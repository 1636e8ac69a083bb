import type { Store } from '../store/index.js';

/** The outbox backlog as the Prometheus gauges show it (metrics.ts reads it at each scrape). */
export interface OutboxBacklog {
  counts: Partial<Record<'pending' | 'failed' | 'sent', number>>;
  /** Epoch ms of the oldest pending job's creation, or null. */
  oldestPendingAt: number | null;
}

/** Outbox jobs by status and the creation time of the oldest pending one: one grouped query. */
export async function readOutboxBacklog(store: Store): Promise<OutboxBacklog> {
  const rows = await store.db
    .selectFrom('outbox')
    .select((eb) => ['status', eb.fn.countAll<string>().as('n'), eb.fn.min<number>('created_at').as('oldest')])
    .groupBy('status')
    .execute();
  const backlog: OutboxBacklog = { counts: {}, oldestPendingAt: null };
  for (const row of rows) {
    if (row.status === 'pending' || row.status === 'failed' || row.status === 'sent') backlog.counts[row.status] = Number(row.n);
    if (row.status === 'pending' && row.oldest !== null) backlog.oldestPendingAt = Number(row.oldest);
  }
  return backlog;
}

/** Messages deleted by retention since the log began, by reason: one grouped query. */
export async function readRetentionDeletions(store: Store): Promise<Record<string, number>> {
  const rows = await store.db
    .selectFrom('retention_log')
    .select((eb) => ['reason', eb.fn.countAll<string>().as('n')])
    .groupBy('reason')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}
