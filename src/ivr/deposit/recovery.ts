/**
 * Start-up recovery of deposits interrupted by a crash: every sidecar left in the spool names a message whose
 * audio, up to the crash, is in the WAV next to it. See spool.ts for the file layout. The WAV's header sizes are
 * repaired in place on disk and its bytes stored as they are, through the same path as a live deposit
 * (store-message.ts: the store enqueues the e-mails and emits 'messageStored').
 */
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import { isSpoolFormatWav, recoverSpooledWav, spoolWavSamples } from '../../media/index.js';
import { decodeWav, encodeWav } from '../../shared/audio/wav.js';
import type { Store } from '../../store/index.js';
import { DepositSpool, spoolDir } from './spool.js';
import { OWNER_FILE, type SpoolOwnership } from './spool-owner.js';
import { samplesToMs, storeDepositedMessage, type DepositedAudio } from './store-message.js';
import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';

export interface RecoverSpoolOptions {
  store: Store;
  config: Config;
  logger: Logger;
  /**
   * This node's claim on its spool directory (several nodes on one `storage.dir`, see spool-owner.ts). With it,
   * recovery covers this node's directory, the directories of dead nodes (taken over) and deposits of the old
   * single-directory layout (claimed one by one by renaming them into this node's directory); without it, only
   * `<storage.dir>/spool` itself (one node per storage directory).
   */
  ownership?: SpoolOwnership;
}

/**
 * Stores the messages of deposits that a previous process left in the spool, then deletes their spool files.
 * Run it at start-up, before taking calls. A message shorter than `voicemail.minMessageSeconds`, one whose line
 * no longer exists and one whose files are unreadable is logged and dropped; a WAV without sidecar (its message
 * already stored or discarded) is deleted — in a node directory, or in the shared root only when no ownership is
 * given. A store failure leaves the files for the next start. Resolves to the ids of the stored messages.
 */
export async function recoverSpooledMessages(opts: RecoverSpoolOptions): Promise<string[]> {
  const root = spoolDir(opts.config.storage.dir);
  const { ownership, logger } = opts;
  if (ownership === undefined) return recoverDir(root, opts);
  await claimLegacyDeposits(root, ownership.dir);
  const stored = await recoverDir(ownership.dir, opts);
  for (const dir of await ownership.takeOverDeadSpools(logger)) {
    stored.push(...(await recoverTree(dir, opts)));
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  return stored;
}

/** A taken-over directory and the ones its dead owner had itself taken over (`.takeover-*`, `.stale-*`) before dying. */
async function recoverTree(dir: string, opts: RecoverSpoolOptions): Promise<string[]> {
  const stored = await recoverDir(dir, opts);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory() && /^\.(?:takeover|stale)-/.test(entry.name)) stored.push(...(await recoverTree(path.join(dir, entry.name), opts)));
  }
  return stored;
}

/**
 * Old layout (deposits directly in `<storage.dir>/spool`): moves each deposit that has a sidecar into `ownDir`,
 * sidecar first — of two nodes racing for it only one rename succeeds, and the loser leaves the WAV alone.
 */
async function claimLegacyDeposits(root: string, ownDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) {
    const m = /^(.+)\.json$/.exec(name);
    if (!m) continue;
    try {
      await rename(path.join(root, name), path.join(ownDir, name));
    } catch {
      continue; // another node claimed it
    }
    await rename(path.join(root, `${m[1]}.wav`), path.join(ownDir, `${m[1]}.wav`)).catch(() => undefined);
  }
}

async function recoverDir(dir: string, opts: RecoverSpoolOptions): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const stems = new Set<string>();
  for (const name of names) {
    // dialin-*.wav: greeting recordings of the dial-in menu, which deletes its own; not deposits.
    if (name.startsWith('dialin-')) continue;
    const m = /^(.+)\.(?:wav|json|json\.tmp)$/.exec(name);
    if (m && name !== OWNER_FILE) stems.add(m[1]!);
  }
  const stored: string[] = [];
  for (const stem of [...stems].sort()) {
    const spool = new DepositSpool(dir, stem);
    const id = await recoverOne(spool, names.includes(`${stem}.json`), names.includes(`${stem}.wav`), opts);
    if (id !== undefined) stored.push(id);
  }
  if (stems.size > 0) opts.logger.info({ spool: dir, spooled: stems.size, stored: stored.length }, 'spool recovery done');
  return stored;
}

async function recoverOne(spool: DepositSpool, hasSidecar: boolean, hasWav: boolean, opts: RecoverSpoolOptions): Promise<string | undefined> {
  const { store, config, logger } = opts;
  const log = logger.child({ spool: path.basename(spool.wavPath) });
  if (!hasSidecar || !hasWav) {
    log.info({ hasSidecar, hasWav }, 'spool: incomplete leftover deleted');
    await spool.remove();
    return undefined;
  }
  let audio: DepositedAudio;
  let sidecar;
  try {
    sidecar = await spool.readSidecar();
    await recoverSpooledWav(spool.wavPath);
    audio = spooledAudio(await readFile(spool.wavPath), log);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'spool: unreadable deposit deleted');
    await spool.remove();
    return undefined;
  }
  const durationMs = samplesToMs(audio.samples);
  const flog = log.child({ callId: sidecar.callId, line: sidecar.line });
  if (audio.samples === 0 || durationMs < config.voicemail.minMessageSeconds * 1000) {
    flog.info({ durationMs }, 'spool: interrupted deposit too short, discarded');
    await spool.remove();
    return undefined;
  }
  const line = await store.lines.find(sidecar.line);
  if (line === undefined) {
    flog.warn({ durationMs }, 'spool: the line of an interrupted deposit no longer exists; discarded');
    await spool.remove();
    return undefined;
  }
  try {
    const result = await storeDepositedMessage(store, line, sidecar, audio, config.retention.maxMessages);
    await spool.remove();
    flog.info({ durationMs, messageId: result.messageId, evicted: result.evicted }, 'spool: interrupted deposit stored');
    return result.evictedAtOnce ? undefined : result.messageId;
  } catch (err) {
    flog.error({ err: (err as Error).message }, 'spool: cannot store an interrupted deposit; kept for the next start');
    return undefined;
  }
}

/**
 * The audio of a repaired spool WAV: its bytes as they are when they are in the stored format (what the spool
 * writer always writes); anything else that decodes at 8 kHz is converted (logged).
 */
function spooledAudio(bytes: Buffer, log: Logger): DepositedAudio {
  if (isSpoolFormatWav(bytes, SAMPLE_RATE)) return { wav: bytes, samples: spoolWavSamples(bytes).length };
  const wav = decodeWav(bytes);
  if (wav.sampleRate !== SAMPLE_RATE) throw new Error(`spool WAV is ${wav.sampleRate} Hz, ${SAMPLE_RATE} expected`);
  log.warn({ channels: wav.channels }, 'spool: WAV not in the stored format (16-bit mono PCM); converted');
  return { wav: encodeWav(wav.samples, SAMPLE_RATE), samples: wav.samples.length };
}
