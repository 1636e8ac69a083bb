import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { toE164 } from '../../shared/e164.js';
import { PinSchema, VoicemailSettingsUpdateSchema } from '../../store/index.js';
import { requireLineAccess } from '../auth.js';
import { parsed, settingsView, type ApiContext } from '../context.js';

/** Voicemail settings, the dial-in PIN and the numbers to call to consult the mailbox. */
export function registerVoicemailRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store, config } = ctx;
  const LineParams = z.strictObject({ line: ctx.lineParam });
  const PasswordBody = z.strictObject({ password: PinSchema.meta({ description: '4 to 10 digits' }) });
  const config_ = (summary: string, description: string, status = 200) => ({
    access: 'line' as const,
    doc: { summary, tags: ['voicemail'], success: { status, description } },
  });

  /** Unread = still in a "new" folder: a message leaves inbox/urgent for old once heard. */
  async function unreadMessages(line: string): Promise<number> {
    const counts = await store.messages.countByDir(line);
    return counts.inbox + counts.urgent;
  }

  app.get(
    '/lines/:line/voicemail/settings',
    {
      schema: { params: LineParams },
      preHandler: requireLineAccess,
      config: config_('Voicemail settings', 'Settings with the read-only unreadMessages count'),
    },
    async (request) => {
      const { line } = parsed(LineParams, request.params);
      return settingsView(await store.lines.getSettings(line), await unreadMessages(line));
    },
  );

  app.put(
    '/lines/:line/voicemail/settings',
    {
      schema: { params: LineParams, body: VoicemailSettingsUpdateSchema },
      preHandler: requireLineAccess,
      config: config_('Change some voicemail settings (only the fields sent change)', 'The complete settings'),
    },
    async (request) => {
      const { line } = parsed(LineParams, request.params);
      const settings = await store.lines.updateSettings(line, request.body);
      return settingsView(settings, await unreadMessages(line));
    },
  );

  app.post(
    '/lines/:line/voicemail/changePassword',
    {
      schema: { params: LineParams, body: PasswordBody },
      preHandler: requireLineAccess,
      config: config_('Set the PIN asked when consulting the mailbox', 'PIN changed', 204),
    },
    async (request, reply) => {
      const { line } = parsed(LineParams, request.params);
      await store.lines.setPin(line, parsed(PasswordBody, request.body).password);
      // Other sessions opened with the old PIN end; the caller's own session stays.
      const principal = request.principal;
      ctx.sessions.revokeLine(line, principal?.role === 'subscriber' ? principal.token : undefined);
      return reply.code(204).send();
    },
  );

  app.get(
    '/lines/:line/voicemail/voicemailNumbers',
    {
      schema: { params: LineParams },
      preHandler: requireLineAccess,
      config: config_('Numbers to dial to consult the mailbox', '{ numbers: [{ number, e164 }] }'),
    },
    async (request) => {
      const { line } = parsed(LineParams, request.params);
      await store.lines.get(line);
      return {
        numbers: config.voicemail.dialInNumbers.map((number) => ({
          number,
          e164: toE164(number, config.voicemail.countryCode) ?? number,
        })),
      };
    },
  );
}
