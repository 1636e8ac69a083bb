/**
 * The recorders' sample batches, reused once written. A recorder fills a batch for `flushMs` (250 ms) and hands it
 * to the spool writer; a new batch per flush would be garbage that lived long enough to be promoted out of the
 * young generation, and its memory (outside V8's heap) would wait for a full collection: seconds, at hundreds of
 * calls per thread, and tens of MB. A batch given back after its write goes to the next flush of any recorder of
 * this thread instead. Per thread (module state), bounded.
 */

/** Batches kept free per length: enough for 256 recorders' next flush (1 MB at 250 ms batches). */
const MAX_FREE_PER_LENGTH = 256;
/** Distinct batch lengths kept (one per `flushMs` in use; the default is one). */
const MAX_LENGTHS = 4;

const free = new Map<number, Int16Array[]>();

/** A batch of `samples` samples: a written one given back, else a new one. Its content is stale: overwrite it. */
export function takeSampleBatch(samples: number): Int16Array {
  return free.get(samples)?.pop() ?? new Int16Array(samples);
}

/**
 * Gives back a batch nothing reads any more (its write completed); kept for reuse while the pool has room. Each
 * batch comes back once: the recorder gives back a flushed batch from its write's callback, and only its last,
 * never-flushed one when it finishes.
 */
export function giveBackSampleBatch(batch: Int16Array): void {
  let list = free.get(batch.length);
  if (list === undefined) {
    if (free.size >= MAX_LENGTHS) return;
    list = [];
    free.set(batch.length, list);
  }
  if (list.length < MAX_FREE_PER_LENGTH) list.push(batch);
}

/** Batches free for reuse, all lengths (tests). */
export function freeSampleBatches(): number {
  let n = 0;
  for (const list of free.values()) n += list.length;
  return n;
}
