/**
 * Blobs whose owner gives them up to the store: the SQLite worker thread gets their bytes by transfer (the caller's
 * ArrayBuffer is detached) instead of a structured-clone copy. A finishing deposit hands its WAV over this way, so
 * that ~300 KB per message is not left behind as garbage on the SIP thread while many calls end together
 * (BENCHMARKS.md, "The store's WAV copies"). PostgreSQL ignores the mark: pg sends the bytes from this thread.
 */

/** Smaller blobs are cheaper to copy than to track. */
const HANDOVER_MIN_BYTES = 64 * 1024;
const handedOver = new WeakSet<ArrayBuffer>();

/**
 * Marks `bytes` as given up when it spans an ArrayBuffer of its own (never a view into a larger buffer, such as a
 * slice of Node's small-buffer pool, which other values share) and is at least 64 KiB. Returns whether it was marked:
 * a marked blob may be detached by the query that carries it, whether the query succeeds or fails.
 */
export function handOverBlob(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength || bytes.byteLength < HANDOVER_MIN_BYTES) return false;
  handedOver.add(buffer);
  return true;
}

/** The ArrayBuffers of the handed-over blobs among `parameters`, each once: the transfer list of a query. */
export function handedOverBuffers(parameters: readonly unknown[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const p of parameters) {
    if (p instanceof Uint8Array && p.buffer instanceof ArrayBuffer && handedOver.has(p.buffer) && !out.includes(p.buffer)) out.push(p.buffer);
  }
  return out;
}
