/**
 * Spool ownership when several nodes share one `storage.dir`: each process owns `<storage.dir>/spool/<nodeId>/`
 * for as long as it lives and writes its deposits there; start-up recovery only takes over the spool directories
 * whose owner is dead, so a starting node never deletes another node's live recordings.
 *
 * Node has no flock(2): ownership is an `owner.json` ({ nodeId, pid, hostname, startedAt }) inside the directory.
 * The directory is created atomically with its owner file (written in a `.claim-*` directory then renamed into
 * place; rename(2) onto an existing non-empty directory fails), so a node directory without a readable owner file
 * is never a live node's. An owner is dead when its hostname is this host's and `process.kill(pid, 0)` says ESRCH.
 * An owner on another host cannot be checked: its directory is left alone (logged) — recover it by starting a node
 * with that `node.id` on that host. Taking over is a rename of the dead node's directory into the taker's own
 * directory: of two nodes racing for it exactly one rename succeeds.
 *
 * The default node id is `<hostname>-<pid>` (a new directory per process; the previous process's is taken over
 * as dead). A configured `node.id` still in use by a live process makes the second one refuse to start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../shared/log.js';
import { setActiveSpoolDir, spoolDir } from './spool.js';

export const OWNER_FILE = 'owner.json';
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

const OwnerSchema = z.strictObject({
  nodeId: z.string(),
  pid: z.number().int().positive(),
  hostname: z.string(),
  startedAt: z.number().int(),
});
type Owner = z.infer<typeof OwnerSchema>;

/** The default node id: `<hostname>-<pid>`, reduced to the characters a directory name may carry here. */
export function defaultNodeId(): string {
  return `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}

/** Starting a node whose spool directory is held by a live process. */
export class SpoolOwnedError extends Error {
  override readonly name = 'SpoolOwnedError';
}

function isAlive(owner: Owner): boolean {
  if (owner.hostname !== hostname()) return true; // cannot tell: assume alive, never touch it
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    const parsed = OwnerSchema.safeParse(JSON.parse(await readFile(path.join(dir, OWNER_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** This process's claim on `<storage.dir>/spool/<nodeId>/`. */
export class SpoolOwnership {
  readonly dir: string;
  readonly nodeId: string;
  readonly #root: string;
  readonly #storageDir: string;

  private constructor(storageDir: string, nodeId: string) {
    this.#root = spoolDir(storageDir);
    this.#storageDir = storageDir;
    this.nodeId = nodeId;
    this.dir = path.join(this.#root, nodeId);
  }

  /**
   * Claims the node directory (throws {@link SpoolOwnedError} naming `storage.dir` when a live process holds it)
   * and makes it the spool of every deposit this process records in `storageDir`.
   */
  static async claim(storageDir: string, nodeId: string, logger: Logger): Promise<SpoolOwnership> {
    if (!NODE_ID.test(nodeId)) throw new SpoolOwnedError(`node.id "${nodeId}" must match ${NODE_ID.source}`);
    const ownership = new SpoolOwnership(storageDir, nodeId);
    await ownership.#claim(storageDir, logger);
    setActiveSpoolDir(storageDir, ownership.dir);
    return ownership;
  }

  async #claim(storageDir: string, logger: Logger): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    const owner: Owner = { nodeId: this.nodeId, pid: process.pid, hostname: hostname(), startedAt: Date.now() };
    for (let attempt = 0; attempt < 3; attempt++) {
      const tmp = path.join(this.#root, `.claim-${this.nodeId}-${randomBytes(4).toString('hex')}`);
      await mkdir(tmp);
      await writeFile(path.join(tmp, OWNER_FILE), JSON.stringify(owner), { flag: 'wx' });
      try {
        await rename(tmp, this.dir);
        return;
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
      const current = await readOwner(this.dir);
      if (current !== undefined && isAlive(current)) {
        throw new SpoolOwnedError(
          `storage.dir ${storageDir}: spool ${this.dir} is owned by node "${current.nodeId}" (pid ${current.pid} on ${current.hostname}), ` +
            'which is still running; give each node its own node.id (or leave node.id empty)',
        );
      }
      // A dead previous owner with our id: set its files aside for recovery, then claim the name again.
      const stale = path.join(this.#root, `.stale-${this.nodeId}-${randomBytes(4).toString('hex')}`);
      try {
        await rename(this.dir, stale);
        logger.warn({ spool: this.dir, previousPid: current?.pid }, 'spool: previous owner of this node id is dead; taking over');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    throw new SpoolOwnedError(`storage.dir ${storageDir}: could not claim spool ${this.dir} (another node keeps claiming it)`);
  }

  /**
   * Moves the spool directories of dead nodes into this node's directory (one `.takeover-<name>` each) and
   * resolves to those directories, for recovery. Live owners' and other hosts' directories are left alone.
   */
  async takeOverDeadSpools(logger: Logger): Promise<string[]> {
    const taken: string[] = [];
    let entries;
    try {
      entries = await readdir(this.#root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return taken;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name === this.nodeId || entry.name.startsWith('.claim-')) continue;
      const from = path.join(this.#root, entry.name);
      if (!entry.name.startsWith('.stale-')) {
        const owner = await readOwner(from);
        if (owner !== undefined && isAlive(owner)) {
          if (owner.hostname !== hostname()) logger.warn({ spool: from, host: owner.hostname }, 'spool: owned by a node on another host; not checked, left alone');
          continue;
        }
      }
      const to = path.join(this.dir, `.takeover-${entry.name}`);
      try {
        await rename(from, to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another node took it first
        throw err;
      }
      await rm(path.join(to, OWNER_FILE), { force: true });
      logger.info({ spool: from }, 'spool: took over the spool of a dead node');
      taken.push(to);
    }
    return taken;
  }

  /** Gives the directory up (clean stop): its owner file goes, so leftovers are taken over by the next node. */
  async release(): Promise<void> {
    setActiveSpoolDir(this.#storageDir, undefined);
    await rm(path.join(this.dir, OWNER_FILE), { force: true });
    await rmdir(this.dir).catch(() => undefined);
  }
}
