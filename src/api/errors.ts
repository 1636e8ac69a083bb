import { ConflictError, NotFoundError, StoreError, ValidationError } from '../store/index.js';
import { AudioFormatError } from '../shared/audio/index.js';

/** The short machine-readable codes of the `error` field of every error body. */
export const ERROR_CODES = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_attempts',
  500: 'internal_error',
  503: 'busy',
} as const;
export type ErrorStatus = keyof typeof ERROR_CODES;

/** Body of every error response. */
export interface ErrorBody {
  error: string;
  /**
   * A stable, finer-grained code a client translates (`invalid_field`, `wrong_credentials`, `pin_locked`,
   * `unsupported_audio`, …); equal to `error` when there is nothing finer to say.
   */
  code: string;
  message: string;
  /** With `invalid_field`: the first offending field, e.g. `body.redirectionEmails.1.email`. */
  field?: string;
  /** With `pin_locked`: ISO 8601 end of the lock. */
  lockedUntil?: string;
  /** With `pin_locked`: the line's time zone (config voicemail.timeZone), to show the time as its clocks do. */
  timeZone?: string;
}

/** An error a route throws on purpose, carrying its HTTP status (and optional extra headers). */
/**
 * Stable code and extra fields of an error body. `error` overrides the status's default class (e.g. `cross_origin`
 * for a 403); `code` is the stable code the web page translates.
 */
export interface ApiErrorDetails {
  error?: string;
  code?: string;
  lockedUntil?: string;
  timeZone?: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: ErrorStatus;
  readonly headers: Readonly<Record<string, string>>;
  /** Stable code and extra fields of the body (see ErrorBody). */
  readonly details: Readonly<ApiErrorDetails>;
  constructor(status: ErrorStatus, message: string, headers: Record<string, string> = {}, details: ApiErrorDetails = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.details = details;
  }
}

/** Fastify and plugin error codes that are the client's fault, with the status we answer them with. */
const CLIENT_ERROR_CODES: Readonly<Record<string, ErrorStatus>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 415,
  FST_ERR_CTP_BODY_TOO_LARGE: 413,
  FST_REQ_FILE_TOO_LARGE: 413,
  FST_PARTS_LIMIT: 413,
  FST_FILES_LIMIT: 413,
  FST_FIELDS_LIMIT: 413,
  FST_INVALID_MULTIPART_CONTENT_TYPE: 400,
  FST_PROTO_VIOLATION: 400,
  FST_ERR_CTP_EMPTY_JSON_BODY: 400,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 400,
  FST_ERR_VALIDATION: 400,
};

const FRIENDLY: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported Content-Type: send application/json (or multipart/form-data for uploads)',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'the request must be multipart/form-data with one file field',
};

/**
 * Maps anything a handler or hook may throw to a status and a `{ error, message }` body. Bad input of any
 * kind is a 4xx; only a genuine fault of ours (database down, bug) is a 500, and its details are not shown.
 */
export function toErrorResponse(err: unknown): { status: ErrorStatus; body: ErrorBody; headers: Record<string, string> } {
  const reply = (status: ErrorStatus, message: string, headers: Record<string, string> = {}, extra: Partial<ErrorBody> = {}) => ({
    status,
    body: { error: ERROR_CODES[status], code: ERROR_CODES[status], message, ...extra } as ErrorBody,
    headers,
  });
  if (err instanceof ApiError) return reply(err.status, err.message, { ...err.headers }, { ...err.details });
  if (err instanceof ValidationError) return reply(400, err.message, {}, { code: 'invalid_request' });
  if (err instanceof NotFoundError) return reply(404, err.message);
  if (err instanceof ConflictError) return reply(409, err.message);
  if (err instanceof AudioFormatError) return reply(400, err.message, {}, { code: 'unsupported_audio' });
  if (err instanceof StoreError) return reply(500, 'the store failed to complete the request');
  if (typeof err === 'object' && err !== null) {
    const { code, statusCode, message } = err as { code?: unknown; statusCode?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : 'bad request';
    if (code === 'FST_ERR_VALIDATION' && typeof (err as { field?: unknown }).field === 'string') {
      return reply(400, text, {}, { code: 'invalid_field', field: (err as { field: string }).field });
    }
    if (typeof code === 'string' && code in CLIENT_ERROR_CODES) {
      return reply(CLIENT_ERROR_CODES[code]!, FRIENDLY[code] ?? text);
    }
    // Other fastify client errors (malformed JSON, …) carry their own 4xx status.
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      const status = (statusCode in ERROR_CODES ? statusCode : 400) as ErrorStatus;
      return reply(status, text);
    }
  }
  return reply(500, 'internal error');
}
