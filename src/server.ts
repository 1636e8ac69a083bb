/**
 * Wires the engine together: configuration → logger → SIP transport and user agent → call handling.
 */
import { createLogger, type Logger } from './log.js';
import type { Config } from './config/schema.js';
import { SipTransport } from './sip/transport/transport.js';
import { SipUserAgent } from './sip/user-agent.js';
import type { IncomingInvite } from './sip/incoming-invite.js';
import { SdpNegotiationError } from './sip/sdp.js';
import { RtpPortAllocator } from './media/port-allocator.js';

export interface RunningServer {
  readonly config: Config;
  readonly logger: Logger;
  readonly sip: SipUserAgent;
  readonly sipPort: number;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const transport = new SipTransport({
    host: config.sip.host,
    port: config.sip.port,
    transports: config.sip.transports,
    maxMessageBytes: config.sip.maxMessageBytes,
    maxHeaders: config.sip.maxHeaders,
    logger,
    ...(config.sip.publicHost ? { advertisedHost: config.sip.publicHost } : {}),
  });
  await transport.start();
  const sip = new SipUserAgent({ transport, logger, publicHost: config.sip.publicHost || undefined });
  const ports = new RtpPortAllocator(config.rtp.portMin, config.rtp.portMax);
  const mediaHost = config.rtp.publicHost || config.rtp.host;

  sip.on('invite', (invite: IncomingInvite) => {
    const answer = (): void => {
      if (invite.cancelled || invite.answered) return;
      const port = ports.allocate();
      try {
        const dialog = invite.accept({ address: mediaHost, port, sessionId: String(Date.now()), sessionVersion: 1 });
        dialog.once('terminated', () => ports.release(port));
      } catch (err) {
        ports.release(port);
        if (err instanceof SdpNegotiationError) invite.reject(488, 'Not Acceptable Here', { Warning: `${err.warnCode} repondeur "${err.message}"` });
        else throw err;
      }
    };
    if (config.sip.answerDelayMs > 0) {
      invite.progress(180);
      setTimeout(answer, config.sip.answerDelayMs);
    } else answer();
  });

  logger.info({ sip: `${config.sip.host}:${transport.port}`, transports: config.sip.transports }, 'repondeur listening');
  return {
    config,
    logger,
    sip,
    sipPort: transport.port,
    async close() {
      await sip.shutdown();
      await transport.stop();
      logger.flush?.();
    },
  };
}
