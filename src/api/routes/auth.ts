import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { lockoutPolicy } from '../../shared/config.js';
import { clearedSessionCookie, presentedToken, sessionCookie } from '../auth.js';
import { iso, parsed, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';

/**
 * Subscriber login with the line's PIN. Failures are recorded in the store with source "web"; the lockout
 * (config `lockout`, default 5 failures within 15 minutes lock the line for 15 minutes) is computed from the same table as the dial-in
 * service's, so failures by phone and on the web add up.
 */
export function registerAuthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store, sessions, clock } = ctx;
  const LoginBody = z.strictObject({
    line: ctx.lineParam,
    pin: z.string({ error: 'pin must be a string' }).max(64, { error: 'pin: at most 64 characters' }),
  });

  function lockedError(line: string, lockedUntil: number, now: number): ApiError {
    return new ApiError(
      429,
      `too many wrong PINs for line ${line}: login is locked until ${iso(lockedUntil)}`,
      { 'retry-after': String(Math.max(1, Math.ceil((lockedUntil - now) / 1000))) },
      { code: 'pin_locked', lockedUntil: iso(lockedUntil), timeZone: ctx.config.voicemail.timeZone },
    );
  }

  app.post(
    '/auth/login',
    {
      schema: { body: LoginBody },
      config: {
        access: 'public',
        doc: {
          summary: 'Subscriber login with line number and PIN; sets an HttpOnly session cookie',
          tags: ['auth'],
          success: { status: 200, description: '{ token, line, expiresAt }' },
        },
      },
    },
    async (request, reply) => {
      const { line, pin } = parsed(LoginBody, request.body);
      const now = clock();
      // One attempt slot is reserved atomically (and counted as a failure) before the PIN is checked, so
      // parallel logins never check more than lockout.maxFailures PINs; a right PIN while locked is refused.
      const slot = await store.authFailures.reserveAttempt({ line, source: 'web', remote: request.ip, at: now }, lockoutPolicy(ctx.config));
      if (slot.kind === 'locked') throw lockedError(line, slot.until, now);
      // Unknown lines and lines without PIN cost the same scrypt work as a wrong PIN, with the same answer.
      const existing = await store.lines.checkPin(line, pin);
      if (existing === undefined) {
        ctx.logger.warn({ line, remote: request.ip }, 'web login failed');
        // The same answer whether the line exists or not: the login form does not reveal provisioned numbers.
        throw new ApiError(401, 'wrong line number or PIN', {}, { code: 'wrong_credentials' });
      }
      await store.authFailures.clear(line);
      const { token, expiresAt } = sessions.create(line);
      return reply
        .header('set-cookie', sessionCookie(token, expiresAt - now, request.protocol === 'https'))
        .send({ token, line, expiresAt: iso(expiresAt) });
    },
  );

  app.post(
    '/auth/logout',
    {
      config: {
        access: 'public',
        doc: { summary: 'End the session (idempotent) and clear its cookie', tags: ['auth'], success: { status: 204, description: 'Logged out' } },
      },
    },
    async (request, reply) => {
      const token = presentedToken(request);
      if (token !== undefined) sessions.revoke(token);
      return reply.code(204).header('set-cookie', clearedSessionCookie(request.protocol === 'https')).send();
    },
  );

  app.get(
    '/auth/session',
    {
      config: {
        access: 'authenticated',
        doc: { summary: 'Who the credentials belong to', tags: ['auth'], success: { status: 200, description: '{ role, line?, timeZone? }' } },
      },
    },
    async (request) => {
      const principal = request.principal!;
      return principal.role === 'operator'
        ? { role: 'operator' }
        : // The time zone of the line's dates (config voicemail.timeZone), for the web manager to format them.
          { role: 'subscriber', line: principal.line, timeZone: ctx.config.voicemail.timeZone };
    },
  );
}
