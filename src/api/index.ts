export { createApiServer, API_PREFIX, DEFAULT_MAX_UPLOAD_BYTES, type ApiServerOptions } from './server.js';
export { ApiError, ERROR_CODES, type ErrorBody } from './errors.js';
export { SessionRegistry, SESSION_COOKIE, SESSION_TTL_MS, type Principal, type Access } from './auth.js';
