/**
 * `storage.dir` checked at start-up: created when missing, refused (naming the key and the real cause, without
 * hanging) when it cannot be created or is read-only. Root ignores permission bits, so the read-only case is a real
 * read-only bind mount.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { ensureWritableDir } from '../../src/ops/storage-dir.js';
import { startServer } from '../../src/server.js';

const work = mkdtempSync(join(tmpdir(), 'ops-storage-'));
const readOnly = join(work, 'ro');
let mounted = false;

beforeAll(() => {
  const source = join(work, 'ro-source');
  mkdirSync(source);
  mkdirSync(readOnly);
  execFileSync('mount', ['--bind', source, readOnly], { stdio: 'pipe' });
  mounted = true;
  execFileSync('mount', ['-o', 'remount,ro,bind', readOnly], { stdio: 'pipe' });
});

afterAll(() => {
  if (mounted) execFileSync('umount', [readOnly]);
  rmSync(work, { recursive: true, force: true });
});

describe('ensureWritableDir', () => {
  test('creates the missing components and leaves no probe file behind', async () => {
    const dir = join(work, 'a', 'b', 'c');
    await ensureWritableDir(dir);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a path under a regular file: refused with the key, the component and ENOTDIR', async () => {
    const file = join(work, 'plain-file');
    writeFileSync(file, 'x');
    await expect(ensureWritableDir(join(file, 'spool', 'x'))).rejects.toThrow(new RegExp(`^storage\\.dir ".*" cannot be created: ${file} exists and is not a directory \\(ENOTDIR\\)`));
  });

  test('/proc/<new>: refused with the real cause, and it returns (Node’s recursive mkdir hangs there)', async () => {
    await expect(ensureWritableDir('/proc/repondeur-test-x/spool')).rejects.toThrow(
      /^storage\.dir "\/proc\/repondeur-test-x\/spool" cannot be created: mkdir \/proc\/repondeur-test-x failed: ENOENT .*does not allow new directories/,
    );
  });

  test('an existing read-only directory (ro bind mount): refused as not writable, EROFS', async () => {
    await expect(ensureWritableDir(readOnly)).rejects.toThrow(/^storage\.dir ".*\/ro" is not writable: EROFS/);
  });

  test('the key named is the one given', async () => {
    await expect(ensureWritableDir(readOnly, 'outbox.dir')).rejects.toThrow(/^outbox\.dir /);
  });
});

test('the server refuses to start on a read-only storage.dir, before taking any call', async () => {
  const config = loadConfig({}, { storage: { dir: readOnly }, database: { url: `sqlite:${join(work, 'db.sqlite')}` }, sip: { port: 0 }, api: { enabled: false } });
  await expect(startServer(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(/^storage\.dir ".*" is not writable: EROFS/);
});
