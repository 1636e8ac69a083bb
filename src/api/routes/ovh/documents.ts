import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotFoundError } from '../../../store/index.js';
import { iso, parsed, type ApiContext } from '../../context.js';
import { ApiError } from '../../errors.js';
import { newFileToken, type OvhPrincipal } from './credentials.js';

/** A document waits this long for its PUT and its use (OVH's upload URLs are short-lived too). */
const DOCUMENT_TTL_MS = 30 * 60 * 1000;
/** Pending documents kept at once, all lines together (each holds at most one upload). */
const MAX_DOCUMENTS = 1000;

interface StoredDocument {
  id: string;
  line: string;
  name: string;
  tags: { key: string; value: string }[];
  putToken: string;
  bytes: Buffer | null;
  createdAt: number;
  expiresAt: number;
}

export interface OvhDocuments {
  /** The uploaded bytes of document `id` of `line`, which is then forgotten (one use, as a greeting). */
  take(id: string, line: string): { name: string; bytes: Buffer };
}

export interface OvhDocumentRouteDeps {
  verify: (request: FastifyRequest) => Promise<OvhPrincipal>;
  doc: (summary: string, description?: string) => { access: 'public'; doc: { summary: string; tags: string[]; success: { status: number; description: string } } };
  maxUploadBytes: number;
  /** Where the API is mounted (`/1.0`), for the putUrl / getUrl it hands out. */
  prefix: string;
}

/**
 * OVH's way to hand a file to an API call (nichandle.document.Document): `POST /me/document { name, tags? }`
 * answers `{ id, name, size, putUrl, getUrl, tags, creationDate, expirationDate, validationDate }`; the client
 * PUTs the bytes to `putUrl` (unsigned: the unguessable URL is the credential, as OVH's pre-signed storage URLs);
 * then names the document in the call that uses it (`POST …/voicemail/{sn}/greetings { dir, documentId }`).
 *
 * Documents live in this process's memory for 30 minutes: behind several API nodes, the three calls must reach
 * the same node (sticky routing), which is documented in docs/ovh-api.md.
 */
export function registerOvhDocumentRoutes(app: FastifyInstance, ctx: ApiContext, deps: OvhDocumentRouteDeps): OvhDocuments {
  const documents = new Map<string, StoredDocument>();
  const byPutToken = new Map<string, StoredDocument>();
  const forget = (d: StoredDocument) => {
    documents.delete(d.id);
    byPutToken.delete(d.putToken);
  };
  const purge = () => {
    const now = ctx.clock();
    for (const d of documents.values()) if (d.expiresAt <= now) forget(d);
  };
  const live = (d: StoredDocument | undefined) => (d !== undefined && d.expiresAt > ctx.clock() ? d : undefined);
  const urlOf = (request: FastifyRequest, d: StoredDocument) => `https://${request.headers.host ?? ''}${deps.prefix}/documents/${d.putToken}`;
  const view = (request: FastifyRequest, d: StoredDocument) => ({
    id: d.id,
    name: d.name,
    size: d.bytes === null ? null : d.bytes.length,
    putUrl: urlOf(request, d),
    getUrl: urlOf(request, d),
    tags: d.tags,
    creationDate: iso(d.createdAt),
    expirationDate: iso(d.expiresAt),
    validationDate: null,
  });

  const DocumentBody = z.object({
    name: z.string().min(1).max(255),
    tags: z.array(z.object({ key: z.string().max(64), value: z.string().max(255) })).max(20).optional(),
  });
  app.post('/me/document', { schema: { body: DocumentBody }, config: deps.doc('Create a document to upload (nichandle.document.Document)', '{ id, name, size, putUrl, getUrl, tags, creationDate, expirationDate }') }, async (request) => {
    const { line } = await deps.verify(request);
    const body = parsed(DocumentBody, request.body);
    purge();
    if (documents.size >= MAX_DOCUMENTS) throw new ApiError(429, 'too many pending documents, retry later', {}, { code: 'ovh_too_many_documents' });
    const now = ctx.clock();
    const d: StoredDocument = { id: randomUUID(), line, name: body.name, tags: body.tags ?? [], putToken: newFileToken(), bytes: null, createdAt: now, expiresAt: now + DOCUMENT_TTL_MS };
    documents.set(d.id, d);
    byPutToken.set(d.putToken, d);
    return view(request, d);
  });

  const IdParams = z.object({ id: z.string().uuid() });
  app.get('/me/document/:id', { schema: { params: IdParams }, config: deps.doc('nichandle.document.Document') }, async (request) => {
    const { line } = await deps.verify(request);
    const d = live(documents.get(parsed(IdParams, request.params).id));
    if (d === undefined || d.line !== line) throw new NotFoundError('this document does not exist');
    return view(request, d);
  });

  // The bytes arrive with whatever Content-Type the script sends (audio/wav, application/octet-stream, none…).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxUploadBytes }, (_request, body, done) => done(null, body));
  const TokenParams = z.object({ token: z.string().regex(/^[\w-]{16,64}$/) });
  app.put('/documents/:token', { schema: { params: TokenParams }, bodyLimit: deps.maxUploadBytes, config: deps.doc('putUrl of a document: its bytes as the request body', 'empty') }, async (request, reply) => {
    const d = live(byPutToken.get(parsed(TokenParams, request.params).token));
    if (d === undefined) throw new NotFoundError('this upload link has expired');
    const body = request.body;
    const bytes = Buffer.isBuffer(body) ? body : typeof request.ovhRawBody === 'string' ? Buffer.from(request.ovhRawBody, 'utf8') : Buffer.alloc(0);
    if (bytes.length === 0) throw new ApiError(400, 'the document is empty', {}, { code: 'ovh_empty_document' });
    d.bytes = bytes;
    return reply.code(200).send();
  });
  app.get('/documents/:token', { schema: { params: TokenParams }, config: deps.doc('getUrl of a document', 'the bytes uploaded') }, async (request, reply) => {
    const d = live(byPutToken.get(parsed(TokenParams, request.params).token));
    if (d === undefined || d.bytes === null) throw new NotFoundError('this document has no content');
    return reply.type('application/octet-stream').send(d.bytes);
  });

  return {
    take(id, line) {
      const d = live(documents.get(id));
      if (d === undefined || d.line !== line) throw new NotFoundError(`document ${id} does not exist`);
      if (d.bytes === null) throw new ApiError(400, `document ${id} has no content: PUT the file to its putUrl first`, {}, { code: 'ovh_document_not_uploaded' });
      forget(d);
      return { name: d.name, bytes: d.bytes };
    },
  };
}
