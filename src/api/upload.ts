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
    return { bytes: await file.toBuffer(), filename: file.filename, mimetype: file.mimetype };
  } catch (err) {
    if (toErrorResponse(err).status < 500) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ApiError(400, `malformed multipart/form-data body: ${reason.slice(0, 200)}`);
  }
}
