import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { iso, parsed, type ApiContext } from '../context.js';
import type { MwiContact } from '../../store/index.js';

const doc = (summary: string, description: string, status = 200) => ({
  access: 'operator' as const,
  doc: { summary, tags: ['operations'], success: { status, description } },
});

const view = (c: MwiContact) => ({ line: c.line, uri: c.uri, createdDatetime: iso(c.createdAt) });

/**
 * Operator management of unsolicited MWI (src/mwi/unsolicited-mwi.ts): the SIP URIs that receive a line's
 * message-waiting NOTIFY without subscribing. Operator only: a contact receives the line's counts.
 */
export function registerMwiContactRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  const LineParams = z.strictObject({ line: ctx.lineParam });
  const AddBody = z.strictObject({ uri: z.string().min(1).max(256) });
  const RemoveQuery = z.strictObject({ uri: z.string().min(1).max(256) });
  app.get(
    '/lines/:line/mwi-contacts',
    { schema: { params: LineParams }, config: doc('SIP URIs that get the line’s MWI NOTIFY unsolicited', 'The contacts') },
    async (request) => (await store.mwiContacts.list(parsed(LineParams, request.params).line)).map(view),
  );
  app.post(
    '/lines/:line/mwi-contacts',
    {
      schema: { params: LineParams, body: AddBody },
      config: doc('Send the line’s MWI to a SIP URI (unsolicited NOTIFY at once and on every change)', 'The contact', 201),
    },
    async (request, reply) => {
      const { line } = parsed(LineParams, request.params);
      const { uri } = parsed(AddBody, request.body);
      return reply.code(201).send(view(await store.mwiContacts.add(line, uri)));
    },
  );
  app.delete(
    '/lines/:line/mwi-contacts',
    { schema: { params: LineParams, querystring: RemoveQuery }, config: doc('Stop sending the line’s MWI to a SIP URI', 'Removed', 204) },
    async (request, reply) => {
      const { line } = parsed(LineParams, request.params);
      await store.mwiContacts.remove(line, parsed(RemoveQuery, request.query).uri);
      return reply.code(204).send();
    },
  );
}
