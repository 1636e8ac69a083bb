/**
 * The on-disk spool of deposits in progress: `<storage.dir>/spool/<name>.wav` (written by `Call.record` while the
 * caller speaks) and `<name>.json`, a sidecar saying whose message it is. The sidecar is written before recording
 * starts, so a process that dies mid-message leaves both files and {@link recoverSpooledMessages} can store the
 * audio up to the crash at the next start-up.
 *
 * Clean-up order is sidecar first, then WAV: a WAV without sidecar is therefore always finished business (already
 * stored or discarded) and is deleted on recovery, never stored twice.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** The spool directory under the storage directory. */
export function spoolDir(storageDir: string): string {
  return path.join(storageDir, 'spool');
}

/** The spool directory owned by this process, per resolved storage directory (set by SpoolOwnership). */
const ownedSpoolDirs = new Map<string, string>();

/** Where this process writes its deposits: its own node directory once claimed (spool-owner.ts), else {@link spoolDir}. */
export function activeSpoolDir(storageDir: string): string {
  return ownedSpoolDirs.get(path.resolve(storageDir)) ?? spoolDir(storageDir);
}

/** Sets (or, with undefined, clears) the node directory that {@link activeSpoolDir} returns for `storageDir`. */
export function setActiveSpoolDir(storageDir: string, dir: string | undefined): void {
  if (dir === undefined) ownedSpoolDirs.delete(path.resolve(storageDir));
  else ownedSpoolDirs.set(path.resolve(storageDir), dir);
}

/**
 * A file name for a Call-ID: its safe characters (at most 64) plus a hash of the whole Call-ID, so that two
 * Call-IDs differing only in unsafe characters never share a spool file.
 */
export function spoolName(callId: string): string {
  const safe = callId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const hash = createHash('sha256').update(callId).digest('hex').slice(0, 12);
  return `${safe}-${hash}`;
}

export const SpoolSidecarSchema = z.strictObject({
  version: z.literal(1),
  callId: z.string().min(1),
  /** The mailbox (E.164). */
  line: z.string().min(1),
  /** E.164 caller, null when withheld. */
  caller: z.string().min(1).nullable(),
  callerName: z.string().nullable(),
  /** The number called (E.164). */
  callee: z.string().min(1),
  /** When recording started (epoch ms): the message's creation time. */
  startedAt: z.number().int().nonnegative(),
});
export type SpoolSidecar = z.infer<typeof SpoolSidecarSchema>;

/** A sidecar that is not JSON or not of {@link SpoolSidecarSchema}. */
export class SpoolSidecarError extends Error {
  override readonly name = 'SpoolSidecarError';
}

const createdDirs = new Set<string>();

/** The two spool files of one deposit. */
export class DepositSpool {
  readonly wavPath: string;
  readonly sidecarPath: string;

  constructor(dir: string, name: string) {
    this.wavPath = path.join(dir, `${name}.wav`);
    this.sidecarPath = path.join(dir, `${name}.json`);
  }

  /** The spool of a call, in this process's spool directory under `<storageDir>/spool` ({@link activeSpoolDir}). */
  static forCall(storageDir: string, callId: string): DepositSpool {
    return new DepositSpool(activeSpoolDir(storageDir), spoolName(callId));
  }

  /**
   * Writes the sidecar atomically (temporary file, fsync, rename), creating the spool directory on first use.
   */
  async writeSidecar(sidecar: SpoolSidecar): Promise<void> {
    const dir = path.dirname(this.sidecarPath);
    if (!createdDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      createdDirs.add(dir);
    }
    const body = JSON.stringify(SpoolSidecarSchema.parse(sidecar));
    const tmp = `${this.sidecarPath}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body, 'utf8');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.sidecarPath);
  }

  /** Reads and validates the sidecar; {@link SpoolSidecarError} naming the file when it is unusable. */
  async readSidecar(): Promise<SpoolSidecar> {
    const text = await readFile(this.sidecarPath, 'utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new SpoolSidecarError(`${this.sidecarPath}: not JSON`);
    }
    const parsed = SpoolSidecarSchema.safeParse(raw);
    if (!parsed.success) throw new SpoolSidecarError(`${this.sidecarPath}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  /** Deletes the sidecar, then the WAV (see the module comment for why in this order). Missing files are fine. */
  async remove(): Promise<void> {
    await rm(this.sidecarPath, { force: true });
    await rm(`${this.sidecarPath}.tmp`, { force: true });
    await rm(this.wavPath, { force: true });
  }
}
