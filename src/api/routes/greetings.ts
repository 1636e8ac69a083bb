import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GREETING_KINDS } from '../../store/index.js';
import { downloadHeaders, greetingFromUpload } from '../audio.js';
import { requireLineAccess } from '../auth.js';
import { greetingView, parsed, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { readUploadedFile } from '../upload.js';
import { GreetingKindSchema } from '../validation.js';

/** Greetings: upload in any of the six formats (stored as 8 kHz mono WAV), list, download, delete. */
export function registerGreetingRoutes(app: FastifyInstance, ctx: ApiContext, maxUploadBytes: number): void {
  const { store } = ctx;
  const LineParams = z.strictObject({ line: ctx.lineParam });
  const KindParams = z.strictObject({ line: ctx.lineParam, kind: GreetingKindSchema });
  const doc = (summary: string, description: string, status = 200, extra: { contentType?: string; upload?: boolean } = {}) => ({
    access: 'line' as const,
    doc: {
      summary,
      tags: ['greetings'],
      success: { status, description, ...(extra.contentType ? { contentType: extra.contentType } : {}) },
      ...(extra.upload ? { upload: true } : {}),
    },
  });

  app.post(
    '/lines/:line/voicemail/greetings/:kind',
    {
      schema: { params: KindParams },
      preHandler: requireLineAccess,
      config: doc(
        `Upload a greeting (${GREETING_KINDS.join('|')}): WAV, AU, AIFF, FLAC, MP3 or Ogg at any rate, field "file"`,
        'The stored greeting',
        201,
        { upload: true },
      ),
    },
    async (request, reply) => {
      const { line, kind } = parsed(KindParams, request.params);
      // The line must exist before we read (and decode) an upload for it.
      await store.lines.get(line);
      if (!request.isMultipart()) throw new ApiError(400, 'the request must be multipart/form-data with a "file" field');
      const { bytes, filename, mimetype } = await readUploadedFile(request, maxUploadBytes);
      // handOver: the upload's memory moves to the decoding worker instead of being copied on this thread.
      const greeting = await greetingFromUpload(bytes, { filename, mimeType: mimetype }, { handOver: true });
      const info = await store.greetings.put(line, kind, greeting);
      ctx.logger.info({ line, kind, durationMs: greeting.durationMs }, 'greeting uploaded');
      return reply.code(201).send(greetingView(info));
    },
  );

  app.get(
    '/lines/:line/voicemail/greetings',
    {
      schema: { params: LineParams },
      preHandler: requireLineAccess,
      config: doc('Recorded greetings', 'Greetings by kind (absent kinds are not recorded)'),
    },
    async (request) => (await store.greetings.list(parsed(LineParams, request.params).line)).map(greetingView),
  );

  app.get(
    '/lines/:line/voicemail/greetings/:kind/download',
    {
      schema: { params: KindParams },
      preHandler: requireLineAccess,
      config: doc('Download a greeting', '8 kHz mono 16-bit WAV', 200, { contentType: 'audio/wav' }),
    },
    async (request, reply) => {
      const { line, kind } = parsed(KindParams, request.params);
      const greeting = await store.greetings.get(line, kind);
      if (greeting === undefined) throw new ApiError(404, `no ${kind} greeting is recorded for line ${line}`);
      return reply.headers(downloadHeaders('wav', `greeting-${kind}`, true)).send(greeting.wav);
    },
  );

  app.delete(
    '/lines/:line/voicemail/greetings/:kind',
    {
      schema: { params: KindParams },
      preHandler: requireLineAccess,
      config: doc('Delete a greeting (the default one is played again)', 'Deleted', 204),
    },
    async (request, reply) => {
      const { line, kind } = parsed(KindParams, request.params);
      if (!(await store.greetings.delete(line, kind))) throw new ApiError(404, `no ${kind} greeting is recorded for line ${line}`);
      return reply.code(204).send();
    },
  );
}
