/**
 * Counts the packets missing from one RTP source's sequence numbers, after RFC 3550 Appendix A.1 (update_seq)
 * and A.3 (packets lost = expected − received), with a small window of recently seen sequence numbers so that a
 * duplicated packet is not counted as received twice (which would hide a loss) and a reordered one fills its gap.
 */
const RTP_SEQ_MOD = 0x10000;
/** RFC 3550 A.1: "MAX_DROPOUT = 3000" — a forward jump up to this is a gap of lost packets. */
const MAX_DROPOUT = 3000;
/** RFC 3550 A.1: "MAX_MISORDER = 100" — up to this far behind the highest is a late or duplicate packet. */
const MAX_MISORDER = 100;
/** Seen-flags of the last WINDOW sequence numbers (≥ MAX_MISORDER, a power of two). */
const WINDOW = 128;

export class RtpSequenceTracker {
  #initialized = false;
  #baseSeq = 0;
  #maxSeq = 0;
  /** RFC 3550 A.1: "shifted count of seq. number cycles". */
  #cycles = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #received = 0;
  /** Loss of the stretches before a restart (a large jump confirmed by the next packet, A.1). */
  #lostBeforeRestart = 0;
  readonly #seen = new Uint8Array(WINDOW);

  /** Records one received packet's sequence number. */
  push(seq: number): void {
    if (!this.#initialized) {
      this.#init(seq);
      return;
    }
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (udelta === 0) return; // duplicate of the highest
    if (udelta < MAX_DROPOUT) {
      // RFC 3550 A.1: "in order, with permissible gap"; "if (seq < s->max_seq) { Sequence number wrapped - count another 64K cycle. }"
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD;
      const clear = Math.min(udelta, WINDOW);
      for (let i = 1; i <= clear; i++) this.#seen[(this.#maxSeq + i) & (WINDOW - 1)] = 0;
      this.#maxSeq = seq;
      this.#mark(seq);
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // RFC 3550 A.1: "the sequence number made a very large jump": "if (seq == s->bad_seq) { Two sequential
      // packets -- assume that the other side restarted without telling us so just re-sync }".
      if (seq === this.#badSeq) {
        this.#lostBeforeRestart += this.#lostSinceInit();
        this.#init(seq);
      } else {
        this.#badSeq = (seq + 1) & 0xffff;
      }
    } else {
      // RFC 3550 A.1: "duplicate or reordered packet": counted once, when its number was not seen yet.
      const back = RTP_SEQ_MOD - udelta;
      if (back < WINDOW && this.#seen[seq & (WINDOW - 1)] === 0) this.#mark(seq);
    }
  }

  /** Packets received, each sequence number once (A.1 "received", duplicates excluded). */
  get received(): number {
    return this.#received;
  }

  /** Packets lost so far: RFC 3550 A.3 "expected − received", never negative. */
  get lost(): number {
    return this.#lostBeforeRestart + this.#lostSinceInit();
  }

  #lostSinceInit(): number {
    if (!this.#initialized) return 0;
    // RFC 3550 A.3: "extended_max = s->cycles + s->max_seq; expected = extended_max - s->base_seq + 1; lost = expected - s->received"
    const expected = this.#cycles + this.#maxSeq - this.#baseSeq + 1;
    return Math.max(0, expected - this.#received);
  }

  #mark(seq: number): void {
    this.#seen[seq & (WINDOW - 1)] = 1;
    this.#received++;
  }

  /** RFC 3550 A.1 init_seq: "s->base_seq = seq; s->max_seq = seq; s->bad_seq = RTP_SEQ_MOD + 1; s->cycles = 0; s->received = 0". */
  #init(seq: number): void {
    this.#initialized = true;
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#seen.fill(0);
    this.#mark(seq);
  }
}
