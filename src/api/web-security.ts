import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, readCookie } from './auth.js';
import { ApiError } from './errors.js';

/** Methods that change state: a cookie-authenticated one must come from the server's own origin. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The origin this request was addressed to, as a browser would write it in `Origin`: the scheme (https when
 * the socket is TLS, or when a trusted proxy — config `api.trustedProxies` — says so in X-Forwarded-Proto)
 * and the Host (X-Forwarded-Host from a trusted proxy).
 */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`.toLowerCase();
}

/** The origin the browser declares for the request: `Origin`, else the origin of `Referer`; undefined when neither. */
function declaredOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== '') return origin.toLowerCase();
  const referer = request.headers.referer;
  if (typeof referer === 'string' && referer !== '') {
    try {
      return new URL(referer).origin.toLowerCase();
    } catch {
      return 'null';
    }
  }
  return undefined;
}

/**
 * Cross-site request forgery defence (pure Origin check, so the web manager's page sends nothing special):
 * a state-changing request that carries the session cookie and whose Origin (or Referer, when Origin is
 * absent) is not the server's own origin is refused 403 `cross_origin`. SameSite=Strict alone does not cover
 * same-site origins (another port of the same host). Requests authenticated by an Authorization header are not
 * cookie-based (a page on another origin cannot add one) and are exempt; so are clients that send neither
 * Origin nor Referer (browsers always send Origin on a cross-origin POST).
 */
export function checkSameOrigin(request: FastifyRequest): void {
  if (!STATE_CHANGING.has(request.method)) return;
  if (typeof request.headers.authorization === 'string') return;
  if (readCookie(request.headers.cookie, SESSION_COOKIE) === undefined) return;
  const declared = declaredOrigin(request);
  if (declared === undefined || declared === ownOrigin(request)) return;
  throw new ApiError(403, `cross-origin request refused: ${declared.slice(0, 200)} is not this server's origin`, {}, { error: 'cross_origin', code: 'cross_origin' });
}

/** Hooks every response of the app goes through: the CSRF check, then `X-Content-Type-Options: nosniff`. */
export function registerWebSecurity(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    checkSameOrigin(request);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
}
