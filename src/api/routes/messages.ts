import { notificationView } from './outbox.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AUDIO_FORMATS, AudioFormatSchema, FolderSchema, NotFoundError, type Message } from '../../store/index.js';
import { downloadHeaders, transcodeStoredWav } from '../audio.js';
import { requireLineAccess } from '../auth.js';
import { messageView, parsed, type ApiContext } from '../context.js';
import { MessageIdSchema } from '../validation.js';

/** Messages ("directories" in the operator's API): list, read, move between folders, download, delete. */
export function registerMessageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  const LineParams = z.strictObject({ line: ctx.lineParam });
  const MessageParams = z.strictObject({ line: ctx.lineParam, id: MessageIdSchema });
  const ListQuery = z.strictObject({
    dir: FolderSchema.optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
    offset: z.coerce.number().int().min(0).optional(),
    order: z.enum(['asc', 'desc'], { error: 'order must be asc or desc' }).optional(),
  });
  const MoveBody = z.strictObject({ dir: FolderSchema });
  const flag = z.enum(['0', '1', 'true', 'false'], { error: 'inline must be 0, 1, true or false' });
  const DownloadQuery = z.strictObject({
    format: AudioFormatSchema.default('wav').meta({ description: `one of ${AUDIO_FORMATS.join(', ')}` }),
    inline: flag.optional().transform((v) => v === '1' || v === 'true'),
  });
  const doc = (summary: string, description: string, status = 200, contentType?: string) => ({
    access: 'line' as const,
    doc: { summary, tags: ['messages'], success: { status, description, ...(contentType ? { contentType } : {}) } },
  });

  /** The message if it belongs to the line; another line's message is as absent as a missing one. */
  async function messageOf(line: string, id: string): Promise<Message> {
    const message = await store.messages.get(id);
    if (message.line !== line) throw new NotFoundError(`message ${id} does not exist`);
    return message;
  }

  app.get(
    '/lines/:line/voicemail/directories',
    {
      schema: { params: LineParams, querystring: ListQuery },
      preHandler: requireLineAccess,
      config: doc('List messages (filter by folder, page with limit/offset, order by date)', 'Messages'),
    },
    async (request) => {
      const { line } = parsed(LineParams, request.params);
      const query = parsed(ListQuery, request.query);
      return (await store.messages.list({ line, ...query })).map(messageView);
    },
  );

  app.get(
    '/lines/:line/voicemail/directories/:id',
    { schema: { params: MessageParams }, preHandler: requireLineAccess, config: doc('Get a message', 'The message') },
    async (request) => {
      const { line, id } = parsed(MessageParams, request.params);
      return messageView(await messageOf(line, id));
    },
  );

  app.get(
    '/lines/:line/voicemail/directories/:id/notifications',
    {
      schema: { params: MessageParams },
      preHandler: requireLineAccess,
      config: doc("The message's e-mail notifications: recipient, status (pending, sent, failed), attempts, last error", 'The notifications'),
    },
    async (request) => {
      const { line, id } = parsed(MessageParams, request.params);
      await messageOf(line, id);
      return (await store.outbox.listForMessage(id)).map(notificationView);
    },
  );

  app.delete(
    '/lines/:line/voicemail/directories/:id',
    { schema: { params: MessageParams }, preHandler: requireLineAccess, config: doc('Delete a message', 'Deleted', 204) },
    async (request, reply) => {
      const { line, id } = parsed(MessageParams, request.params);
      await messageOf(line, id);
      await store.messages.delete(id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/lines/:line/voicemail/directories/:id/move',
    {
      schema: { params: MessageParams, body: MoveBody },
      preHandler: requireLineAccess,
      config: doc('Move a message to another folder', 'The moved message'),
    },
    async (request) => {
      const { line, id } = parsed(MessageParams, request.params);
      await messageOf(line, id);
      return messageView(await store.messages.move(id, parsed(MoveBody, request.body).dir));
    },
  );

  app.post(
    '/lines/:line/voicemail/directories/:id/heard',
    {
      schema: { params: MessageParams },
      preHandler: requireLineAccess,
      config: doc('Mark a message heard when its playback starts (inbox and urgent → old, as the dial-in menu does)', 'The message'),
    },
    async (request) => {
      const { line, id } = parsed(MessageParams, request.params);
      await messageOf(line, id);
      return messageView(await store.messages.markHeard(id));
    },
  );

  app.get(
    '/lines/:line/voicemail/directories/:id/download',
    {
      schema: { params: MessageParams, querystring: DownloadQuery },
      preHandler: requireLineAccess,
      config: doc(
        'Download a message as wav, mp3, ogg, flac, aiff or au (inline=1 to play it in a page)',
        'The audio file (attachment, or inline)',
        200,
        'audio/*',
      ),
    },
    async (request, reply) => {
      const { line, id } = parsed(MessageParams, request.params);
      const { format, inline } = parsed(DownloadQuery, request.query);
      const message = await messageOf(line, id);
      const audio = await transcodeStoredWav(await store.messages.getAudio(message.id), format);
      return reply.headers(downloadHeaders(format, `message-${message.id}`, inline)).send(audio.data);
    },
  );
}
