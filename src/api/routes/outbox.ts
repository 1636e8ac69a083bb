import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import { iso, parsed, type ApiContext } from '../context.js';
import type { OutboxJob } from '../../store/index.js';

const ListQuery = z.strictObject({
  status: z.enum(['pending', 'failed', 'sent']).optional(),
  line: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const JobParams = z.strictObject({ id: z.string().min(1).max(64) });
const RetentionQuery = z.strictObject({
  line: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
});

export function jobView(j: OutboxJob) {
  return {
    id: j.id,
    messageId: j.messageId,
    line: j.line,
    ...notificationView(j),
    /** Why a pending job waits: `relay` (unreachable: sent as soon as it answers again) or `reply` (a 4yz to it). */
    deferredFor: j.status === 'pending' ? j.deferredFor : null,
    /** Set while a sender holds the job (it is being sent): "retry now" leaves it alone until then. */
    leasedUntilDatetime: j.leasedUntil === null ? null : iso(j.leasedUntil),
  };
}

/** One notification of a message as the API shows it: recipient, status, attempts, last error. */
export function notificationView(j: OutboxJob) {
  return {
    recipient: j.recipient,
    type: j.type,
    format: j.format,
    status: j.status,
    attempts: j.attempts,
    lastError: j.lastError,
    nextAttemptDatetime: j.status === 'pending' ? iso(j.nextAttemptAt) : null,
    sentDatetime: j.sentAt === null ? null : iso(j.sentAt),
  };
}

const doc = (summary: string, description: string, status = 200) => ({
  access: 'operator' as const,
  doc: { summary, tags: ['operations'], success: { status, description } },
});

/**
 * Operator views of the background work: every notification job of the outbox (pending and failed ones with
 * their last error), "retry now" for failed and waiting jobs (one or all), and the retention log (automatic deletions).
 */
export function registerOutboxRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  app.get(
    '/outbox',
    { schema: { querystring: ListQuery }, config: doc('Notification jobs of every line, by status, with their last error', 'The jobs') },
    async (request) => {
      const q = parsed(ListQuery, request.query);
      return (await store.outbox.list({ ...(q.status ? { status: q.status } : {}), ...(q.line ? { line: q.line } : {}), limit: q.limit })).map(jobView);
    },
  );
  app.post(
    '/outbox/retry',
    {
      config: doc(
        'Retry every failed or waiting notification now',
        'The jobs made due now (jobs being sent at this moment are left to their sender)',
      ),
    },
    async () => ({ retried: (await store.outbox.retryNow(ctx.clock())).map(jobView) }),
  );
  app.post(
    '/outbox/:id/retry',
    { schema: { params: JobParams }, config: doc('Retry one failed or waiting notification now', 'The job, due now') },
    async (request) => {
      const { id } = parsed(JobParams, request.params);
      const [job] = await store.outbox.retryNow(ctx.clock(), id);
      if (job) return jobView(job);
      const existing = await store.outbox.get(id).catch(() => undefined);
      if (!existing) throw new ApiError(404, `no notification job ${id}`);
      if (existing.status === 'sent') throw new ApiError(409, `notification job ${id} is already sent`);
      throw new ApiError(409, `notification job ${id} is being sent right now (leased until ${existing.leasedUntil === null ? "its sender finishes" : iso(existing.leasedUntil)})`);
    },
  );
  app.get(
    '/retention-log',
    { schema: { querystring: RetentionQuery }, config: doc('Automatic deletions (retention), newest first', 'The log entries') },
    async (request) => {
      const q = parsed(RetentionQuery, request.query);
      return (await store.retentionLog.list({ ...(q.line ? { line: q.line } : {}), limit: q.limit })).map((e) => ({ ...e, at: iso(e.at) }));
    },
  );
}
