import { open, readFile, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import {
  WAV_DATA_SIZE_OFFSET,
  WAV_HEADER_BYTES,
  WAV_RIFF_SIZE_OFFSET,
  WavFormatError,
  isRiffWave,
  readPcm16LE,
  riffChunks,
  wavHeader,
} from '../shared/audio/wav.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * A 16-bit mono WAV written incrementally: the header goes first with zero sizes, sample batches are
 * appended with queued asynchronous positional writes, and `close()` patches the RIFF and data sizes.
 * A file left behind by a crash is a valid WAV up to its sizes, which {@link recoverSpooledWav} repairs.
 *
 * {@link WavSpoolWriter.start} returns at once and opens the file in the background (batches appended
 * meanwhile wait in the queue), so a recording can take packets from its first instant even when the
 * file system is slow; {@link WavSpoolWriter.create} waits for the open.
 */
export class WavSpoolWriter {
  readonly path: string;
  /** Settles when the file is open and its provisional header written; rejects with the open/write error. */
  readonly ready: Promise<void>;
  readonly #fsync: boolean;
  #fh: FileHandle | null = null;
  #position = WAV_HEADER_BYTES;
  #chain: Promise<void>;
  #error: Error | null = null;
  /** Open succeeded but a write failed (disk full, I/O error): the batches from then on, kept in memory. */
  #writeError: Error | null = null;
  readonly #unwritten: Buffer[] = [];
  #closed: Promise<number> | null = null;

  private constructor(path: string, sampleRate: number, fsync: boolean) {
    this.path = path;
    this.#fsync = fsync;
    this.ready = this.#open(sampleRate);
    // Appends queue behind the open; its failure is reported by `ready` and by close().
    this.#chain = this.ready.catch((err: unknown) => void (this.#error = err as Error));
  }

  /** Starts creating (or truncating) `path` with the provisional header; appends may be queued at once. */
  static start(path: string, sampleRate = SAMPLE_RATE, fsync = true): WavSpoolWriter {
    return new WavSpoolWriter(path, sampleRate, fsync);
  }

  /** Creates (or truncates) `path` and writes the provisional header; rejects when that fails. */
  static async create(path: string, sampleRate = SAMPLE_RATE, fsync = true): Promise<WavSpoolWriter> {
    const writer = new WavSpoolWriter(path, sampleRate, fsync);
    await writer.ready;
    return writer;
  }

  async #open(sampleRate: number): Promise<void> {
    const fh = await open(this.path, 'w');
    try {
      await fh.write(wavHeader(0, sampleRate), 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    this.#fh = fh;
  }

  /** Bytes of samples queued so far (written or about to be). */
  get dataBytes(): number {
    return this.#position - WAV_HEADER_BYTES;
  }

  /**
   * Queues `chunk` (little-endian 16-bit samples) for writing; the caller must not reuse it until `written` is
   * called, once the bytes are in the file. `written` is never called for a chunk the writer keeps in memory (after
   * a write error, see {@link unwrittenSamples}) or drops (the file could not be opened).
   */
  append(chunk: Buffer, written?: () => void): void {
    if (this.#closed) throw new Error(`WavSpoolWriter: append after close on ${this.path}`);
    if (chunk.length === 0) return;
    const at = this.#position;
    this.#position += chunk.length;
    this.#chain = this.#chain.then(async () => {
      if (this.#error) return;
      if (this.#writeError) {
        this.#unwritten.push(chunk);
        return;
      }
      try {
        const { bytesWritten } = await this.#fh!.write(chunk, 0, chunk.length, at);
        if (bytesWritten < chunk.length) throw Object.assign(new Error(`short write on ${this.path}`), { code: 'ENOSPC' });
      } catch (err) {
        // The file keeps what was written before (its header is patched to that length on close); what could not
        // be written stays in memory so that the recording is not lost (see unwrittenSamples).
        this.#writeError = err as Error;
        this.#unwritten.push(chunk);
        return;
      }
      written?.();
    });
  }

  /** The first write error after a successful open (e.g. ENOSPC), or null. */
  get writeError(): Error | null {
    return this.#writeError;
  }

  /**
   * The samples that could not be written after {@link writeError}, in order: the audio that follows what the
   * file holds. Call after close().
   */
  unwrittenSamples(): Int16Array {
    const bytes = Buffer.concat(this.#unwritten);
    const out = new Int16Array(bytes.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2);
    return out;
  }

  /**
   * The finished recording as one WAV, after {@link close}: the spool file's bytes as they are on disk (header and
   * the samples written), followed by the batches kept in memory after a write error; the header sizes are set to
   * the whole in place. Nothing is decoded or re-encoded: these are the bytes to store.
   */
  async finishedWav(): Promise<Buffer> {
    const written = await this.close();
    const file = await readFile(this.path);
    if (file.length < WAV_HEADER_BYTES + written) throw new WavFormatError(`${this.path}: ${file.length} bytes on disk, ${WAV_HEADER_BYTES + written} written`);
    const head = file.subarray(0, WAV_HEADER_BYTES + written);
    const wav = this.#unwritten.length === 0 ? head : Buffer.concat([head, ...this.#unwritten]);
    setWavDataBytes(wav, wav.length - WAV_HEADER_BYTES);
    return wav;
  }

  /** Waits for queued writes, patches the header sizes, closes the file. Resolves to the data byte count. */
  close(): Promise<number> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<number> {
    await this.#chain;
    const fh = this.#fh;
    if (fh === null) throw this.#error ?? new Error(`WavSpoolWriter: ${this.path} was never opened`);
    try {
      if (this.#error) throw this.#error;
      const written = this.dataBytes - this.#unwritten.reduce((n, b) => n + b.length, 0);
      try {
        await patchSizes(fh, written, WAV_HEADER_BYTES - 8);
        if (this.#fsync) await fh.datasync();
      } catch (err) {
        // Patching rewrites bytes already allocated; if even that fails, recovery repairs the sizes from the file.
        this.#writeError ??= err as Error;
      }
      return written;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}

async function patchSizes(fh: FileHandle, dataBytes: number, dataChunkHeaderAt: number): Promise<void> {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(Math.min(0xffffffff, dataBytes), 0);
  await fh.write(size, 0, 4, dataChunkHeaderAt + 4);
  size.writeUInt32LE(Math.min(0xffffffff, dataChunkHeaderAt + 8 + dataBytes - 8), 0);
  await fh.write(size, 0, 4, WAV_RIFF_SIZE_OFFSET);
}

/**
 * Sets the data and RIFF sizes of a WAV with the 44-byte header of {@link wavHeader} (what the spool writes) to
 * `dataBytes`, in place.
 */
export function setWavDataBytes(wav: Buffer, dataBytes: number): void {
  wav.writeUInt32LE(Math.min(0xffffffff, dataBytes), WAV_DATA_SIZE_OFFSET);
  wav.writeUInt32LE(Math.min(0xffffffff, WAV_HEADER_BYTES - 8 + dataBytes), WAV_RIFF_SIZE_OFFSET);
}

/**
 * True when `bytes` is a WAV exactly as the spool writes and the store keeps it: the 44-byte header of
 * {@link wavHeader} (16-bit PCM, mono, `sampleRate`) whose sizes match the bytes that follow it.
 */
export function isSpoolFormatWav(bytes: Buffer, sampleRate = SAMPLE_RATE): boolean {
  if (bytes.length < WAV_HEADER_BYTES || (bytes.length - WAV_HEADER_BYTES) % 2 !== 0) return false;
  return wavHeader(bytes.length - WAV_HEADER_BYTES, sampleRate).equals(bytes.subarray(0, WAV_HEADER_BYTES));
}

/**
 * The first `maxSamples` samples of a spool-format WAV ({@link isSpoolFormatWav}): a view of `wav` with its header
 * sizes patched in place, or `wav` itself when it is not longer.
 */
export function truncateSpoolWav(wav: Buffer, maxSamples: number): Buffer {
  const dataBytes = Math.max(0, Math.floor(maxSamples)) * 2;
  if (wav.length - WAV_HEADER_BYTES <= dataBytes) return wav;
  const cut = wav.subarray(0, WAV_HEADER_BYTES + dataBytes);
  setWavDataBytes(cut, dataBytes);
  return cut;
}

/** The samples of a spool-format WAV: a view of its bytes on a little-endian host when aligned, else a copy. */
export function spoolWavSamples(wav: Buffer): Int16Array {
  const at = wav.byteOffset + WAV_HEADER_BYTES;
  const count = (wav.length - WAV_HEADER_BYTES) >> 1;
  if (LITTLE_ENDIAN && at % 2 === 0) return new Int16Array(wav.buffer, at, count);
  return readPcm16LE(wav.subarray(WAV_HEADER_BYTES));
}

export interface RecoveredWav {
  path: string;
  samples: number;
  durationMs: number;
  /** Whether the header had to be changed. */
  repaired: boolean;
}

/**
 * Repairs a spool WAV left by a crash: sets the data and RIFF sizes to what is on disk and drops a
 * trailing partial sample. The audio written so far is kept. Throws {@link WavFormatError} when the
 * file does not start like a WAV.
 */
export async function recoverSpooledWav(path: string): Promise<RecoveredWav> {
  const fh = await open(path, 'r+');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, 4096));
    await fh.read(head, 0, head.length, 0);
    if (!isRiffWave(head)) throw new WavFormatError(`${path}: not a RIFF/WAVE spool file`);
    let blockAlign = 2;
    let sampleRate = SAMPLE_RATE;
    for (const { id, headerOffset: off, bodyOffset: dataAt, size: chunkSize } of riffChunks(head)) {
      if (id === 'fmt ' && off + 24 <= head.length) {
        sampleRate = head.readUInt32LE(off + 12) || sampleRate;
        blockAlign = head.readUInt16LE(off + 20) || blockAlign;
      }
      if (id === 'data') {
        const onDisk = Math.max(0, size - dataAt);
        const dataBytes = onDisk - (onDisk % blockAlign);
        if (dataBytes !== onDisk) await fh.truncate(dataAt + dataBytes);
        const repaired = chunkSize !== dataBytes || head.readUInt32LE(WAV_RIFF_SIZE_OFFSET) !== dataAt + dataBytes - 8;
        if (repaired) await patchSizes(fh, dataBytes, off);
        const samples = dataBytes / blockAlign;
        return { path, samples, durationMs: (samples * 1000) / sampleRate, repaired };
      }
    }
    throw new WavFormatError(`${path}: no data chunk in the first ${head.length} bytes`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
