/**
 * Several nodes on one storage.dir: each records into its own spool directory, a starting node leaves a live
 * node's deposits alone and takes over only the spool of a dead node. In-process against a real SQLite store,
 * plus two real server processes on one storage.dir.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { DepositSpool, SpoolOwnedError, SpoolOwnership, recoverSpooledMessages, spoolDir, spoolName } from '../../src/ivr/deposit/index.js';
import { multiTone } from '../../src/media/index.js';
import { wavHeader } from '../../src/shared/audio/wav.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const LINE = '+33912345678';
const logger = pino({ level: 'silent' });
let dir: string;
let store: Store;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cluster-spool-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  await store.lines.create({ number: LINE, routing: 'voicemail' });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = () => loadConfig({}, { storage: { dir }, voicemail: { minMessageSeconds: 1 } });

/** A deposit as a recording process leaves it on disk (sidecar + WAV whose header was never patched). */
async function spoolIn(spoolDirectory: string, callId: string): Promise<DepositSpool> {
  mkdirSync(spoolDirectory, { recursive: true });
  const spool = new DepositSpool(spoolDirectory, spoolName(callId));
  await spool.writeSidecar({ version: 1, callId, line: LINE, caller: null, callerName: null, callee: LINE, startedAt: 1_700_000_000_000 });
  const pcm = multiTone([440], 2000);
  writeFileSync(spool.wavPath, Buffer.concat([wavHeader(0), Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]));
  return spool;
}

/** The pid of a process that has exited (so `kill(pid, 0)` says ESRCH). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((res) => child.once('exit', res));
  return child.pid!;
}

describe('spool ownership (in-process)', () => {
  test('node B starting leaves node A\'s live deposit alone; deposits go to the claiming node\'s directory', async () => {
    const a = await SpoolOwnership.claim(dir, 'node-a', logger);
    const live = DepositSpool.forCall(dir, 'live-a@host');
    expect(live.wavPath.startsWith(join(spoolDir(dir), 'node-a'))).toBe(true);
    await spoolIn(a.dir, 'live-a@host');
    const b = await SpoolOwnership.claim(dir, 'node-b', logger);
    try {
      expect(DepositSpool.forCall(dir, 'x@host').wavPath.startsWith(join(spoolDir(dir), 'node-b'))).toBe(true);
      expect(await recoverSpooledMessages({ store, config: config(), logger, ownership: b })).toEqual([]);
      expect(existsSync(live.wavPath)).toBe(true);
      expect(existsSync(live.sidecarPath)).toBe(true);
    } finally {
      await b.release();
      await a.release();
      await live.remove();
    }
  });

  test('a node id held by a live process is refused with a message naming storage.dir', async () => {
    const a = await SpoolOwnership.claim(dir, 'node-same', logger);
    try {
      const err = await SpoolOwnership.claim(dir, 'node-same', logger).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpoolOwnedError);
      expect(String((err as Error).message)).toContain(`storage.dir ${dir}`);
      expect(String((err as Error).message)).toContain(`pid ${process.pid}`);
    } finally {
      await a.release();
    }
  });

  test('the spool of a crashed node is recovered by the next node, and only once', async () => {
    const before = (await store.messages.list({ line: LINE })).length;
    const crashed = join(spoolDir(dir), 'node-crashed');
    await spoolIn(crashed, 'crashed@host');
    writeFileSync(join(crashed, 'owner.json'), JSON.stringify({ nodeId: 'node-crashed', pid: await deadPid(), hostname: hostname(), startedAt: 1 }));
    const c = await SpoolOwnership.claim(dir, 'node-c', logger);
    const d = await SpoolOwnership.claim(dir, 'node-d', logger);
    try {
      const [byC, byD] = await Promise.all([
        recoverSpooledMessages({ store, config: config(), logger, ownership: c }),
        recoverSpooledMessages({ store, config: config(), logger, ownership: d }),
      ]);
      expect(byC.length + byD.length).toBe(1);
      expect((await store.messages.list({ line: LINE })).length).toBe(before + 1);
      expect(existsSync(crashed)).toBe(false);
    } finally {
      await c.release();
      await d.release();
    }
  });

  test('a spool on another host is never taken over', async () => {
    const remote = join(spoolDir(dir), 'node-remote');
    const spool = await spoolIn(remote, 'remote@host');
    writeFileSync(join(remote, 'owner.json'), JSON.stringify({ nodeId: 'node-remote', pid: await deadPid(), hostname: `not-${hostname()}`, startedAt: 1 }));
    const e = await SpoolOwnership.claim(dir, 'node-e', logger);
    try {
      expect(await recoverSpooledMessages({ store, config: config(), logger, ownership: e })).toEqual([]);
      expect(existsSync(spool.wavPath)).toBe(true);
    } finally {
      await e.release();
      rmSync(remote, { recursive: true, force: true });
    }
  });
});

describe('two server processes on one storage.dir', () => {
  test('the second start neither deletes nor stores the first node\'s live spool; both come up', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'cluster-shared-'));
    const servers: ServerProcess[] = [];
    try {
      servers.push(await startServerProcess({}, { dir: shared }));
      const nodeA = readdirSync(spoolDir(shared)).filter((n) => !n.startsWith('.'));
      expect(nodeA).toHaveLength(1);
      // A deposit being recorded by node A, as its files are on disk mid-call.
      const live = await spoolIn(join(spoolDir(shared), nodeA[0]!), 'in-progress@host');
      servers.push(await startServerProcess({}, { dir: shared }));
      expect(servers[1]!.logs.filter((l) => String(l.msg).startsWith('spool:'))).toEqual([]);
      expect(existsSync(live.wavPath)).toBe(true);
      expect(existsSync(live.sidecarPath)).toBe(true);
      expect(readdirSync(spoolDir(shared)).filter((n) => !n.startsWith('.'))).toHaveLength(2);
      // Node A crashes: the next node to start recovers its deposit.
      await servers[0]!.stop('SIGKILL');
      servers.push(await startServerProcess({}, { dir: shared }));
      await servers[2]!.waitForLog((l) => l.msg === 'spool: interrupted deposit stored');
      expect(existsSync(live.wavPath)).toBe(false);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(shared, { recursive: true, force: true });
    }
  });
});
