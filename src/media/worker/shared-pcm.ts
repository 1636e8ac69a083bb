/**
 * Prompt PCM in shared memory, so that a play sends a worker references, not audio. Each Int16Array played is
 * copied once into a SharedArrayBuffer and the copy is remembered against the array (a WeakMap: it lives as long as
 * the array does). The prompt catalogue's arrays are loaded once and played by every call, so their audio crosses
 * to the workers once per process; a subscriber's greeting read for one call is copied once for that call (as a
 * transferred copy would be). The arrays must not be modified after they were played (the player's rule already).
 */
const sharedCopies = new WeakMap<Int16Array, Int16Array>();

/** `pcm` itself when it is already on shared memory, else its shared copy (made on first use). */
export function sharedPcm(pcm: Int16Array): Int16Array {
  if (pcm.buffer instanceof SharedArrayBuffer) return pcm;
  let copy = sharedCopies.get(pcm);
  if (copy === undefined) {
    copy = new Int16Array(new SharedArrayBuffer(pcm.byteLength));
    copy.set(pcm);
    sharedCopies.set(pcm, copy);
  }
  return copy;
}
