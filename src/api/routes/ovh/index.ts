import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AudioFormatSchema, FolderSchema, NotFoundError, type AudioFormat, type Message } from '../../../store/index.js';
import { downloadHeaders, greetingFromUpload, transcodeStoredWav } from '../../audio.js';
import { iso, parsed, type ApiContext } from '../../context.js';
import { ApiError } from '../../errors.js';
import { newFileToken, OvhCredentialRegistry, type OvhPrincipal } from './credentials.js';
import { registerOvhDocumentRoutes } from './documents.js';
import { registerOvhLineRoutes } from './line.js';

/** Where the OVH-compatible API is mounted: the official clients' default base path. */
export const OVH_PREFIX = '/1.0';
/** A download URL (telephony.PcsFile.url) serves its file for this long. */
const FILE_TTL_MS = 10 * 60 * 1000;

declare module 'fastify' {
  interface FastifyRequest {
    ovhRawBody?: string;
    ovh?: OvhPrincipal;
  }
}

/**
 * An OVH numeric message id (telephony.VoicemailMessages.id is a long): the first 48 bits of the message's
 * UUID (random in a v4 UUID), unique within a line in practice; the lookup is within the line.
 */
export function ovhMessageId(uuid: string): number {
  return parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
}

/** telephony.VoicemailMessages */
function ovhMessage(m: Message) {
  return { id: ovhMessageId(m.id), caller: m.caller, callee: m.callee, creationDatetime: iso(m.creationDatetime), dir: m.dir, duration: m.duration };
}

/**
 * The OVH API surface for voicemail (`/telephony/{billingAccount}/voicemail/{serviceName}/…`), with OVH's paths,
 * methods, field names and response shapes, and OVH's request signatures (see credentials.ts). `serviceName`
 * is the line (0033912345678, 33912345678 or +33912345678); `billingAccount` is accepted as is.
 */
export interface OvhRouteOptions {
  registry?: OvhCredentialRegistry;
  /** Largest document (greeting) upload, as for /api/v1 uploads. */
  maxUploadBytes?: number;
}

export function registerOvhRoutes(app: FastifyInstance, ctx: ApiContext, options: OvhRouteOptions = {}): OvhCredentialRegistry {
  const { store } = ctx;
  const registry = options.registry ?? new OvhCredentialRegistry(ctx.config.api.ovhApplications, store.ovhConsumerKeys, ctx.clock);
  const files = new Map<string, { line: string; id: string; greeting?: 'busy' | 'greet' | 'temp' | 'unavail'; format: AudioFormat; expiresAt: number }>();
  const Service = z.object({ billingAccount: z.string().max(64), serviceName: ctx.lineParam });
  const MessageParams = Service.extend({ id: z.coerce.number().int().nonnegative() });
  const doc = (summary: string, description = 'OVH-compatible response') => ({
    access: 'public' as const,
    doc: { summary, tags: ['ovh'], success: { status: 200, description } },
  });

  // The signature covers the body as sent (the official clients escape non-ASCII as \uXXXX): keep it raw.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    request.ovhRawBody = text;
    try {
      done(null, text === '' ? {} : JSON.parse(text));
    } catch {
      done(new ApiError(400, 'the body is not valid JSON'), undefined);
    }
  });

  /** Verifies the signature and that the consumer key was validated for this very line. */
  async function signedFor(request: FastifyRequest): Promise<string> {
    const principal = await registry.verify(request, request.ovhRawBody ?? '');
    const { serviceName } = parsed(Service, request.params);
    if (serviceName !== principal.line) throw new ApiError(403, 'This call has not been granted', {}, { code: 'ovh_not_granted' });
    request.ovh = principal;
    return principal.line;
  }
  const signed = async (request: FastifyRequest) => {
    await signedFor(request);
  };

  async function messageOf(line: string, id: number): Promise<Message> {
    const found = (await store.messages.list({ line })).find((m) => ovhMessageId(m.id) === id);
    if (found === undefined) throw new NotFoundError(`message ${id} does not exist`);
    return found;
  }

  app.get('/auth/time', { config: doc('Server time (epoch seconds), to correct the client clock drift', 'integer') }, async () =>
    Math.round(ctx.clock() / 1000),
  );

  const CredentialBody = z.object({
    accessRules: z.array(z.object({ method: z.enum(['GET', 'POST', 'PUT', 'DELETE']), path: z.string() })).max(100),
    redirection: z.string().max(2000).optional(),
  });
  app.post('/auth/credential', { schema: { body: CredentialBody }, config: doc('Request a consumer key (auth.Credential)', '{ validationUrl, consumerKey, state }') }, async (request) => {
    const applicationKey = request.headers['x-ovh-application'];
    const { consumerKey, validationToken } = await registry.request(typeof applicationKey === 'string' ? applicationKey : '');
    const host = request.headers.host ?? `${ctx.config.api.host}:${ctx.config.api.port}`;
    // OVH clients only speak HTTPS (TLS ends at a reverse proxy in front of us): the web manager is behind the same host.
    return { validationUrl: `https://${host}/?ovhCredential=${encodeURIComponent(validationToken)}`, consumerKey, state: 'pendingValidation' };
  });

  const ValidateBody = z.strictObject({ token: z.string().min(16).max(128) });
  app.post(
    '/auth/credential/validate',
    { schema: { body: ValidateBody }, config: { access: 'authenticated', doc: doc('The logged-in subscriber validates a consumer key (validationUrl)').doc } },
    async (request) => {
      const principal = request.principal!;
      if (principal.role !== 'subscriber') throw new ApiError(403, 'only a subscriber validates a credential for the line');
      await registry.validate(parsed(ValidateBody, request.body).token, principal.line);
      return { state: 'validated', line: principal.line };
    },
  );

  const IssueBody = z.strictObject({ applicationKey: z.string().max(128), line: ctx.lineParam });
  app.post(
    '/auth/operator/credential',
    { schema: { body: IssueBody }, config: { access: 'operator', doc: doc('The operator issues a consumer key already validated for a line', '{ consumerKey, state }').doc } },
    async (request) => {
      const { applicationKey, line } = parsed(IssueBody, request.body);
      await store.lines.get(line);
      return { consumerKey: await registry.issue(applicationKey, line), state: 'validated' };
    },
  );

  app.post('/auth/logout', { config: doc('Revoke the consumer key of the request') }, async (request) => {
    const ck = request.headers['x-ovh-consumer'];
    await registry.verify(request, request.ovhRawBody ?? '');
    if (typeof ck === 'string') await registry.revoke(ck);
    return null;
  });

  const verify = (request: FastifyRequest) => registry.verify(request, request.ovhRawBody ?? '');
  registerOvhLineRoutes(app, ctx, { signed, doc, verify });
  const documents = registerOvhDocumentRoutes(app, ctx, { verify, doc, maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024, prefix: OVH_PREFIX });

  const base = '/telephony/:billingAccount/voicemail/:serviceName';
  app.get(`${base}/settings`, { schema: { params: Service }, preHandler: signed, config: doc('telephony.VoicemailProperties') }, async (request) => {
    const line = request.ovh!.line;
    const settings = await store.lines.getSettings(line);
    const counts = await store.messages.countByDir(line);
    return {
      annouceMessage: '',
      audioFormat: settings.audioFormat,
      doNotRecord: settings.doNotRecord,
      forcePassword: settings.forcePassword,
      fromEmail: settings.fromEmail ?? '',
      fromName: settings.fromName ?? '',
      fullGreetingSoundId: null,
      greetingType: settings.greetingType,
      isNewVersion: true,
      keepMessage: settings.keepMessage,
      redirectionEmails: settings.redirectionEmails,
      shortGreetingSoundId: null,
      temporaryGreetingActivated: settings.temporaryGreetingActivated,
      temporaryGreetingSoundId: null,
      unreadMessages: counts.inbox + counts.urgent,
    };
  });

  const SettingsBody = z.object({
    audioFormat: AudioFormatSchema.optional(),
    doNotRecord: z.boolean().optional(),
    forcePassword: z.boolean().optional(),
    fromEmail: z.string().max(320).optional(),
    fromName: z.string().max(200).optional(),
    greetingType: z.enum(['default', 'full', 'short']).optional(),
    keepMessage: z.boolean().optional(),
    redirectionEmails: z.array(z.object({ email: z.string(), type: z.enum(['attachment', 'simple']) })).optional(),
    temporaryGreetingActivated: z.boolean().optional(),
  });
  app.put(`${base}/settings`, { schema: { params: Service, body: SettingsBody }, preHandler: signed, config: doc('Alter telephony.VoicemailProperties (read-only fields are ignored, as OVH does)', 'null') }, async (request) => {
    const body = parsed(SettingsBody, request.body);
    const patch: Record<string, unknown> = { ...body };
    if (body.fromEmail !== undefined) patch.fromEmail = body.fromEmail === '' ? null : body.fromEmail;
    if (body.fromName !== undefined) patch.fromName = body.fromName === '' ? null : body.fromName;
    await store.lines.updateSettings(request.ovh!.line, patch);
    return null;
  });

  const PasswordBody = z.object({ password: z.string().regex(/^\d{4,10}$/, { error: 'password: 4 to 10 digits' }) });
  app.post(`${base}/settings/changePassword`, { schema: { params: Service, body: PasswordBody }, preHandler: signed, config: doc('Change the PIN', 'null') }, async (request) => {
    await store.lines.setPin(request.ovh!.line, parsed(PasswordBody, request.body).password);
    return null;
  });

  const RoutingBody = z.object({ routing: z.enum(['fax', 'voicemail']) });
  app.post(`${base}/settings/changeRouting`, { schema: { params: Service, body: RoutingBody }, preHandler: signed, config: doc('Set telephony.VoicefaxRoutingEnum', 'null') }, async (request) => {
    await store.lines.setRouting(request.ovh!.line, parsed(RoutingBody, request.body).routing);
    return null;
  });
  app.get(`${base}/settings/routing`, { schema: { params: Service }, preHandler: signed, config: doc('telephony.VoicefaxRoutingEnum (plain value)', 'fax | voicemail') }, async (request, reply) =>
    // A bare JSON string ("voicemail"), as OVH answers; fastify would send a string as text/plain.
    reply.type('application/json; charset=utf-8').send(JSON.stringify((await store.lines.get(request.ovh!.line)).routing)),
  );
  app.get(`${base}/settings/voicemailNumbers`, { schema: { params: Service }, preHandler: signed, config: doc('telephony.VoicemailNumbers', '{ external, internal }') }, async () => ({
    external: ctx.config.voicemail.dialInNumbers[0] ?? '',
    internal: ctx.config.voicemail.dialInNumbers[1] ?? ctx.config.voicemail.dialInNumbers[0] ?? '',
  }));

  const DirQuery = z.object({ dir: FolderSchema.optional() });
  app.get(`${base}/directories`, { schema: { params: Service, querystring: DirQuery }, preHandler: signed, config: doc('Message ids (long[]), newest first', 'long[]') }, async (request) => {
    const { dir } = parsed(DirQuery, request.query);
    return (await store.messages.list({ line: request.ovh!.line, ...(dir ? { dir } : {}), order: 'desc' })).map((m) => ovhMessageId(m.id));
  });
  app.get(`${base}/directories/:id`, { schema: { params: MessageParams }, preHandler: signed, config: doc('telephony.VoicemailMessages') }, async (request) =>
    ovhMessage(await messageOf(request.ovh!.line, parsed(MessageParams, request.params).id)),
  );
  app.delete(`${base}/directories/:id`, { schema: { params: MessageParams }, preHandler: signed, config: doc('Delete a message', 'null') }, async (request) => {
    const m = await messageOf(request.ovh!.line, parsed(MessageParams, request.params).id);
    await store.messages.delete(m.id);
    return null;
  });
  const MoveBody = z.object({ dir: FolderSchema });
  app.post(`${base}/directories/:id/move`, { schema: { params: MessageParams, body: MoveBody }, preHandler: signed, config: doc('Move a message (telephony.VoicemailMessageFolderDirectoryEnum)', 'null') }, async (request) => {
    const m = await messageOf(request.ovh!.line, parsed(MessageParams, request.params).id);
    await store.messages.move(m.id, parsed(MoveBody, request.body).dir);
    return null;
  });
  const DownloadQuery = z.object({ format: AudioFormatSchema.optional() });
  app.get(`${base}/directories/:id/download`, { schema: { params: MessageParams, querystring: DownloadQuery }, preHandler: signed, config: doc('telephony.PcsFile: a URL serving the file for 10 minutes', '{ url, filename, status }') }, async (request) => {
    const line = request.ovh!.line;
    const m = await messageOf(line, parsed(MessageParams, request.params).id);
    const format = parsed(DownloadQuery, request.query).format ?? (await store.lines.getSettings(line)).audioFormat;
    const token = newFileToken();
    const now = ctx.clock();
    for (const [k, f] of files) if (f.expiresAt <= now) files.delete(k);
    files.set(token, { line, id: m.id, format, expiresAt: now + FILE_TTL_MS });
    const host = request.headers.host ?? '';
    return { url: `https://${host}${OVH_PREFIX}/files/${token}`, filename: `message-${ovhMessageId(m.id)}.${format}`, status: 'done' };
  });

  // Greetings (telephony.VoicemailGreetings { id, dir, callee }): OVH's folders busy, greet, temp, unavail, with
  // a fixed numeric id per folder (our "name" greeting has no OVH folder and is not listed).
  const GREETING_IDS = { unavail: 1, busy: 2, greet: 3, temp: 4 } as const;
  type OvhGreetingDir = keyof typeof GREETING_IDS;
  const dirOfGreeting = (id: number): OvhGreetingDir => {
    const dir = (Object.keys(GREETING_IDS) as OvhGreetingDir[]).find((k) => GREETING_IDS[k] === id);
    if (dir === undefined) throw new NotFoundError(`greeting ${id} does not exist`);
    return dir;
  };
  const GreetingQuery = z.object({ dir: z.enum(['busy', 'greet', 'temp', 'unavail']).optional() });
  app.get(`${base}/greetings`, { schema: { params: Service, querystring: GreetingQuery }, preHandler: signed, config: doc('Greeting ids (long[])', 'long[]') }, async (request) => {
    const { dir } = parsed(GreetingQuery, request.query);
    return (await store.greetings.list(request.ovh!.line))
      .filter((g): g is typeof g & { kind: OvhGreetingDir } => g.kind in GREETING_IDS && (dir === undefined || g.kind === dir))
      .map((g) => GREETING_IDS[g.kind]);
  });
  // OVH: "Upload a new sound for a specific greeting" from a /me/document, answering a long (the greeting's id).
  const GreetingBody = z.object({ dir: z.enum(['busy', 'greet', 'temp', 'unavail']), documentId: z.string().uuid() });
  app.post(`${base}/greetings`, { schema: { params: Service, body: GreetingBody }, preHandler: signed, config: doc('Set a greeting from an uploaded /me/document (same decoding and checks as /api/v1 uploads)', 'long (greeting id)') }, async (request) => {
    const line = request.ovh!.line;
    const { dir, documentId } = parsed(GreetingBody, request.body);
    const document = documents.take(documentId, line);
    const greeting = await greetingFromUpload(document.bytes, { filename: document.name });
    await store.greetings.put(line, dir, greeting);
    ctx.logger.info({ line, kind: dir, durationMs: greeting.durationMs }, 'greeting uploaded (OVH API)');
    return GREETING_IDS[dir];
  });
  app.get(`${base}/greetings/:id`, { schema: { params: MessageParams }, preHandler: signed, config: doc('telephony.VoicemailGreetings') }, async (request) => {
    const line = request.ovh!.line;
    const { id } = parsed(MessageParams, request.params);
    const dir = dirOfGreeting(id);
    if ((await store.greetings.get(line, dir)) === undefined) throw new NotFoundError(`greeting ${id} does not exist`);
    return { id, dir, callee: line };
  });
  app.delete(`${base}/greetings/:id`, { schema: { params: MessageParams }, preHandler: signed, config: doc('Delete a greeting', 'null') }, async (request) => {
    const { id } = parsed(MessageParams, request.params);
    if (!(await store.greetings.delete(request.ovh!.line, dirOfGreeting(id)))) throw new NotFoundError(`greeting ${id} does not exist`);
    return null;
  });
  app.get(`${base}/greetings/:id/download`, { schema: { params: MessageParams, querystring: DownloadQuery }, preHandler: signed, config: doc('telephony.PcsFile of a greeting', '{ url, filename, status }') }, async (request) => {
    const line = request.ovh!.line;
    const { id } = parsed(MessageParams, request.params);
    const dir = dirOfGreeting(id);
    if ((await store.greetings.get(line, dir)) === undefined) throw new NotFoundError(`greeting ${id} does not exist`);
    const format = parsed(DownloadQuery, request.query).format ?? 'wav';
    const token = newFileToken();
    files.set(token, { line, id: '', greeting: dir, format, expiresAt: ctx.clock() + FILE_TTL_MS });
    return { url: `https://${request.headers.host ?? ''}${OVH_PREFIX}/files/${token}`, filename: `greeting-${dir}.${format}`, status: 'done' };
  });

  const FileParams = z.object({ token: z.string().regex(/^[\w-]{16,64}$/) });
  app.get('/files/:token', { schema: { params: FileParams }, config: doc('The file behind a telephony.PcsFile url', 'audio') }, async (request, reply) => {
    const file = files.get(parsed(FileParams, request.params).token);
    if (file === undefined || file.expiresAt <= ctx.clock()) throw new NotFoundError('this download link has expired');
    if (file.greeting !== undefined) {
      const greeting = await store.greetings.get(file.line, file.greeting);
      if (greeting === undefined) throw new NotFoundError('this greeting no longer exists');
      const audio = await transcodeStoredWav(greeting.wav, file.format);
      return reply.headers(downloadHeaders(file.format, `greeting-${file.greeting}`, false)).send(audio.data);
    }
    const audio = await transcodeStoredWav(await store.messages.getAudio(file.id), file.format);
    return reply.headers(downloadHeaders(file.format, `message-${ovhMessageId(file.id)}`, false)).send(audio.data);
  });
  return registry;
}
