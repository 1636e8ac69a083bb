import type { FastifyRequest } from 'fastify';
import { ApiError, toErrorResponse } from './errors.js';

/** The one multipart field a greeting upload may carry its file in (documented in the OpenAPI summary). */
export const UPLOAD_FIELD = 'file';

/**
 * Reads the single file of a multipart upload. A body the multipart parser cannot read (no boundary, truncated,
 * garbage) is the client's fault: 400 with a JSON message, never 500. Past `maxBytes` the plugin's
 * RequestFileTooLargeError (→ 413) is thrown before anything is decoded. A file in any field but
 * {@link UPLOAD_FIELD} is refused 400.
 */
export async function readUploadedFile(
  request: FastifyRequest,
  maxBytes: number,
): Promise<{ bytes: Buffer; filename: string; mimetype: string }> {
  try {
    const file = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 4 } });
    if (file === undefined) throw new ApiError(400, `${UPLOAD_FIELD}: no file in the upload`);
    if (file.fieldname !== UPLOAD_FIELD) {
      file.file.resume();
      throw new ApiError(400, `the file must be sent in the multipart field "${UPLOAD_FIELD}", not "${file.fieldname.slice(0, 64)}"`);
    }
    const bytes = await collect(file.file, maxBytes, Number(request.headers['content-length']));
    return { bytes, filename: file.filename, mimetype: file.mimetype };
  } catch (err) {
    if (toErrorResponse(err).status < 500) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ApiError(400, `malformed multipart/form-data body: ${reason.slice(0, 200)}`);
  }
}

/**
 * The file's bytes, copied chunk by chunk (as they arrive) into one ArrayBuffer of its own — sized from the
 * request's Content-Length, which bounds the file — so that no 20 MiB Buffer.concat blocks the event loop at the
 * end, and so the result (offset 0, not a pooled slab) can be transferred to a worker without a copy.
 */
async function collect(stream: AsyncIterable<Buffer> & { truncated?: boolean }, maxBytes: number, contentLength: number): Promise<Buffer> {
  const bound = maxBytes + 1;
  let store = new Uint8Array(Number.isSafeInteger(contentLength) && contentLength > 0 ? Math.min(contentLength, bound) : 64 * 1024);
  let length = 0;
  for await (const chunk of stream) {
    // Past the limit busboy truncates the file: keep draining the body (as the plugin's toBuffer does), store nothing.
    if (stream.truncated) continue;
    if (length + chunk.length > store.length) {
      // No (or a lying) Content-Length: grow, doubling, never past the limit.
      const grown = new Uint8Array(Math.min(Math.max(store.length * 2, length + chunk.length), Math.max(bound, length + chunk.length)));
      grown.set(store.subarray(0, length));
      store = grown;
    }
    store.set(chunk, length);
    length += chunk.length;
  }
  if (stream.truncated) throw new ApiError(413, `the file is larger than ${maxBytes} bytes`);
  return Buffer.from(store.buffer, 0, length);
}
