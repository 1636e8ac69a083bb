import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LanguageSchema, PinSchema, RoutingSchema } from '../../store/index.js';
import { requireLineAccess } from '../auth.js';
import { lineView, parsed, type ApiContext } from '../context.js';

/** Lines: provisioning (operator) and routing (fax or voicemail, the subscriber's switch). */
export function registerLineRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  const LineParams = z.strictObject({ line: ctx.lineParam });
  const CreateBody = z.strictObject({
    number: ctx.lineParam,
    routing: RoutingSchema.optional(),
    pin: PinSchema.optional(),
    language: LanguageSchema.optional(),
  });
  const ListQuery = z.strictObject({
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  });
  const RoutingBody = z.strictObject({ routing: RoutingSchema });
  const lineRoute = { access: 'line' as const };

  app.post(
    '/lines',
    {
      schema: { body: CreateBody },
      config: {
        access: 'operator',
        doc: { summary: 'Provision a line', tags: ['lines'], success: { status: 201, description: 'The new line' } },
      },
    },
    async (request, reply) => {
      const body = parsed(CreateBody, request.body);
      const line = await store.lines.create(body);
      return reply.code(201).send(lineView(line));
    },
  );

  app.get(
    '/lines',
    {
      schema: { querystring: ListQuery },
      config: { access: 'operator', doc: { summary: 'List lines', tags: ['lines'], success: { status: 200, description: 'Lines by number' } } },
    },
    async (request) => (await store.lines.list(parsed(ListQuery, request.query))).map(lineView),
  );

  app.get(
    '/lines/:line',
    {
      schema: { params: LineParams },
      preHandler: requireLineAccess,
      config: { ...lineRoute, doc: { summary: 'Get a line', tags: ['lines'], success: { status: 200, description: 'The line' } } },
    },
    async (request) => lineView(await store.lines.get(parsed(LineParams, request.params).line)),
  );

  app.delete(
    '/lines/:line',
    {
      schema: { params: LineParams },
      config: {
        access: 'operator',
        doc: { summary: 'Delete a line with its messages and greetings', tags: ['lines'], success: { status: 204, description: 'Deleted' } },
      },
    },
    async (request, reply) => {
      const { line } = parsed(LineParams, request.params);
      await store.lines.delete(line);
      ctx.sessions.revokeLine(line);
      return reply.code(204).send();
    },
  );

  app.get(
    '/lines/:line/routing',
    {
      schema: { params: LineParams },
      preHandler: requireLineAccess,
      config: { ...lineRoute, doc: { summary: 'Current routing', tags: ['routing'], success: { status: 200, description: '{ routing }' } } },
    },
    async (request) => ({ routing: (await store.lines.get(parsed(LineParams, request.params).line)).routing }),
  );

  for (const path of ['/lines/:line/routing', '/lines/:line/changeRouting']) {
    app.post(
      path,
      {
        schema: { params: LineParams, body: RoutingBody },
        preHandler: requireLineAccess,
        config: {
          ...lineRoute,
          doc: {
            summary: 'Route the line to the fax receiver or to the voicemail (voicemail disables every fax feature)',
            tags: ['routing'],
            success: { status: 200, description: '{ routing }' },
          },
        },
      },
      async (request) => {
        const { line } = parsed(LineParams, request.params);
        const { routing } = parsed(RoutingBody, request.body);
        const updated = await store.lines.setRouting(line, routing);
        ctx.logger.info({ line, routing }, 'line routing changed');
        return { routing: updated.routing };
      },
    );
  }
}
