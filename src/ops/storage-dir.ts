/**
 * Start-up check of `storage.dir` (spool of the recordings in progress, outbox files): it must exist or be
 * creatable, and be writable. A directory that fails this would accept calls and then lose every message after
 * the beep, so the engine refuses to start instead, naming the key and the real cause.
 *
 * Everything is asynchronous and bounded: Node's recursive mkdir loops forever on some paths (`/proc/x`), so the
 * missing components are created one by one, and the whole check gives up after a time-out.
 */
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class StorageDirError extends Error {
  override readonly name = 'StorageDirError';
}

const CHECK_TIMEOUT_MS = 10_000;

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.message})` : String(e.message ?? e);
}

/** Creates the missing components of `dir` one at a time, reporting the first that cannot be made and why. */
async function createDir(key: string, dir: string): Promise<void> {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    try {
      const st = await stat(at);
      if (!st.isDirectory()) {
        throw new StorageDirError(`${key} "${dir}" cannot be created: ${at} exists and is not a directory (ENOTDIR)`);
      }
      break;
    } catch (err) {
      if (err instanceof StorageDirError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a component above is a file; walking up finds which one.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new StorageDirError(`${key} "${dir}" cannot be created: cannot inspect ${at}: ${describe(err)}`);
      missing.unshift(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  for (const component of missing) {
    try {
      await mkdir(component);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      const hint = code === 'ENOENT' ? ` although ${dirname(component)} exists: its file system does not allow new directories` : '';
      throw new StorageDirError(`${key} "${dir}" cannot be created: mkdir ${component} failed: ${describe(err)}${hint}`);
    }
  }
}

/** Creates and removes a probe file in `dir` (permission bits are not enough: root ignores them, not EROFS). */
async function probeWritable(key: string, dir: string): Promise<void> {
  const probe = resolve(dir, `.repondeur-write-probe-${process.pid}`);
  try {
    const fh = await open(probe, 'w');
    try {
      await fh.write('probe');
    } finally {
      await fh.close();
    }
    await unlink(probe);
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    throw new StorageDirError(`${key} "${dir}" is not writable: ${describe(err)}`);
  }
}

/** Makes sure `dir` (the value of config key `key`) exists and is writable; throws a StorageDirError otherwise. */
export async function ensureWritableDir(dir: string, key = 'storage.dir', timeoutMs = CHECK_TIMEOUT_MS): Promise<void> {
  const absolute = resolve(dir);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageDirError(`${key} "${dir}": no answer from the file system within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([
      (async () => {
        await createDir(key, absolute);
        await probeWritable(key, absolute);
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
