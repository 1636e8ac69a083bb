import { z } from 'zod';
import type { Logger } from '../../shared/log.js';

/** Options of {@link SipTransport}, validated when the transport is built. */
export const sipTransportOptionsSchema = z.object({
  /** Address to bind ("0.0.0.0", "::", "127.0.0.1"…). */
  host: z.string().min(1),
  /** Port to bind; 0 picks an ephemeral one (then UDP and TCP share it). */
  port: z.number().int().min(0).max(65535),
  transports: z.array(z.enum(['udp', 'tcp'])).min(1),
  /** Host written in our own Via sent-by when `host` is a wildcard address (default: first non-internal IPv4). */
  advertisedHost: z.string().min(1).optional(),
  maxMessageBytes: z.number().int().min(1024).max(1 << 20).default(65535),
  maxHeaders: z.number().int().min(8).max(10000).default(128),
  /** UDP SO_RCVBUF / SO_SNDBUF (the kernel caps them at net.core.rmem_max / wmem_max). */
  socketBufferBytes: z.number().int().min(65536).default(4 * 1024 * 1024),
  /** A TCP connection with no traffic for this long is closed. */
  tcpIdleTimeoutMs: z.number().int().min(1000).default(5 * 60 * 1000),
  /** Open TCP connections allowed, inbound and outbound together. */
  maxTcpConnections: z.number().int().min(1).default(1024),
  /** Time allowed to open an outbound TCP connection. */
  tcpConnectTimeoutMs: z.number().int().min(100).default(10_000),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).debug === 'function', {
    message: 'logger must be a pino Logger',
  }),
});

export type SipTransportOptions = z.input<typeof sipTransportOptionsSchema>;
export type ResolvedSipTransportOptions = z.output<typeof sipTransportOptionsSchema>;
