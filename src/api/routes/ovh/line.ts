import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from '../../context.js';
import type { OvhPrincipal } from './credentials.js';

/** OVH's spelling of a line in paths and `serviceName` fields: 0033912345678 for +33912345678. */
export const ovhServiceName = (line: string) => `00${line.slice(1)}`;

export interface OvhLineRouteDeps {
  /** preHandler: a signed request for the line of the URL's serviceName (sets request.ovh). */
  signed: (request: FastifyRequest) => Promise<void>;
  /** A signed request, whatever its URL (for the list, which names no line). */
  verify: (request: FastifyRequest) => Promise<OvhPrincipal>;
  doc: (summary: string, description?: string) => { access: 'public'; doc: { summary: string; tags: string[]; success: { status: number; description: string } } };
}

/**
 * `/telephony/{billingAccount}/line[/{serviceName}]`: what OVH exposes for a line (telephony.Line). OVH keeps no
 * fax/voicemail routing there — it is `voicemail/{serviceName}/settings/routing` — so this is the line's identity
 * only. The fields répondeur has no equivalent for (SIP device, offer, infrastructure, notifications, simultaneous
 * calls) are present as `null` rather than invented; `canChangePassword` is false because there is no SIP
 * password here (the voicemail PIN is `voicemail/{serviceName}/settings/changePassword`).
 */
export function registerOvhLineRoutes(app: FastifyInstance, ctx: ApiContext, deps: OvhLineRouteDeps): void {
  const Account = z.object({ billingAccount: z.string().max(64) });
  const Service = Account.extend({ serviceName: ctx.lineParam });

  app.get('/telephony/:billingAccount/line', { schema: { params: Account }, config: deps.doc('The lines of the billing account this consumer key may use (string[])', 'string[]') }, async (request) => {
    const { line } = await deps.verify(request);
    return [ovhServiceName(line)];
  });

  app.get('/telephony/:billingAccount/line/:serviceName', { schema: { params: Service }, preHandler: deps.signed, config: deps.doc('telephony.Line') }, async (request) => {
    const line = await ctx.store.lines.get(request.ovh!.line);
    return {
      serviceName: ovhServiceName(line.number),
      serviceType: 'line',
      description: '',
      offers: [],
      canChangePassword: false,
      isAttachedToOtherLinesPhone: false,
      deviceSlot: null,
      getPublicOffer: null,
      infrastructure: null,
      notifications: null,
      simultaneousLines: null,
    };
  });
}
