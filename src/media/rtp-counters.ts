/**
 * Process-wide RTP packet counters: plain integers bumped on the packet path, read by whoever exports metrics
 * (the composition root's Prometheus collector). Nothing here allocates or calls out per packet.
 */

/** A packet sent more than this many ms after its scheduled time counts as late. */
export const LATE_SEND_THRESHOLD_MS = 10;

export interface RtpPacketTotals {
  /** Well-formed RTP packets received, all sessions. */
  received: number;
  /** RTP packets sent (prompt frames, silence, comfort noise), all sessions. */
  sent: number;
  /** Of the sent packets, those sent more than {@link LATE_SEND_THRESHOLD_MS} after their schedule. */
  sentLate: number;
  /** Packets missing from the received sequence numbers (RFC 3550 A.3), added when each session closes. */
  lost: number;
}

/** The running totals since the process started (never reset; they only grow). */
export const rtpPacketTotals: RtpPacketTotals = { received: 0, sent: 0, sentLate: 0, lost: 0 };
