import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Who is calling: the operator (every line, provisioning) or the subscriber of one line (web manager). */
export type Principal = { role: 'operator' } | { role: 'subscriber'; line: string; token: string };

/**
 * Access rule of a route, set in its `config.access`:
 * - `public`: no credentials (login, OpenAPI document, web manager files);
 * - `authenticated`: any valid credentials;
 * - `line`: the operator, or the subscriber of the line named by the `:line` parameter;
 * - `operator`: the operator only.
 */
export type Access = 'public' | 'authenticated' | 'line' | 'operator';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const SESSION_COOKIE = 'repondeur_session';
export const SESSION_TTL_MS = 8 * 3600_000;
/** Above this many live sessions, expired ones are swept on each new login. */
const SWEEP_THRESHOLD = 1000;

interface Session {
  line: string;
  expiresAt: number;
}

/**
 * Subscriber sessions, in memory: a token is 32 random bytes (base64url) handed to the client once; only its
 * SHA-256 is kept, so the table itself holds nothing a client could replay. Sessions end at `expiresAt`, on
 * logout, or when the process restarts.
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #clock: () => number;
  readonly #ttlMs: number;

  constructor(clock: () => number, ttlMs = SESSION_TTL_MS) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** Opens a session for `line`; returns the token and its expiry. */
  create(line: string): { token: string; expiresAt: number } {
    const now = this.#clock();
    if (this.#sessions.size >= SWEEP_THRESHOLD) {
      for (const [key, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(key);
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.#ttlMs;
    this.#sessions.set(digest(token), { line, expiresAt });
    return { token, expiresAt };
  }

  /** The line of a live session, or undefined for an unknown or expired token. */
  resolve(token: string): string | undefined {
    const key = digest(token);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#clock()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session.line;
  }

  revoke(token: string): void {
    this.#sessions.delete(digest(token));
  }

  /** Ends every session of a line (its deletion), except `keepToken`'s. */
  revokeLine(line: string, keepToken?: string): void {
    const keep = keepToken === undefined ? undefined : digest(keepToken);
    for (const [key, s] of this.#sessions) if (s.line === line && key !== keep) this.#sessions.delete(key);
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of two secrets of any length (their SHA-256 digests are compared). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie value carrying the session to the web manager (HttpOnly, SameSite=Strict). */
export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(maxAgeMs / 1000)}`];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** Set-Cookie value that removes the session cookie. */
export function clearedSessionCookie(secure = false): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** The bearer token of the Authorization header, or else the session cookie; undefined when neither. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return readCookie(request.headers.cookie, SESSION_COOKIE);
}

/**
 * Enforces routes' `config.access` (an onRequest hook, so credentials are checked before any input is parsed):
 * 401 without valid credentials, 403 for a subscriber on an operator-only route. The line check of `line`
 * routes needs the parsed `:line` parameter and is done by {@link requireLineAccess}.
 */
export class Authenticator {
  readonly #operatorToken: string;
  readonly #sessions: SessionRegistry;

  constructor(operatorToken: string, sessions: SessionRegistry) {
    this.#operatorToken = operatorToken;
    this.#sessions = sessions;
  }

  /** The principal behind a token, or undefined. The operator token is disabled when configured empty. */
  identify(token: string): Principal | undefined {
    if (this.#operatorToken !== '' && sameSecret(token, this.#operatorToken)) return { role: 'operator' };
    const line = this.#sessions.resolve(token);
    return line === undefined ? undefined : { role: 'subscriber', line, token };
  }

  readonly onRequest = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const access = request.routeOptions.config.access ?? 'operator';
    const token = presentedToken(request);
    const principal = token === undefined ? undefined : this.identify(token);
    if (principal !== undefined) request.principal = principal;
    if (access === 'public') return;
    if (principal === undefined) {
      throw new ApiError(
        401,
        token === undefined ? 'credentials required: log in, or send Authorization: Bearer <token>' : 'invalid or expired credentials',
        { 'www-authenticate': 'Bearer realm="repondeur"' },
      );
    }
    if (access === 'operator' && principal.role !== 'operator') throw new ApiError(403, 'this route is reserved to the operator');
  };
}

/** preHandler of `line` routes: a subscriber may only reach the line of their session. */
export async function requireLineAccess(request: FastifyRequest): Promise<void> {
  const principal = request.principal;
  if (principal === undefined) throw new ApiError(401, 'credentials required');
  if (principal.role === 'operator') return;
  const line = (request.params as { line?: unknown }).line;
  if (line !== principal.line) throw new ApiError(403, `your session gives access to line ${principal.line} only`);
}
