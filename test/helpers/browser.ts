/**
 * Headless Chromium for the web tests: Debian's `chromium` driven by playwright-core (never a downloaded browser),
 * with the flags measured on these machines (../shared/NOTES.md) and a fresh profile per context. The page may only
 * reach our own servers on loopback: anything else is aborted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  readonly context: BrowserContext;
  /** The profile directory (downloads, screenshots may go beside it). */
  readonly dir: string;
  close(): Promise<void>;
}

export async function launchTestBrowser(opts: { acceptDownloads?: boolean; ignoreHTTPSErrors?: boolean; allow?: RegExp } = {}): Promise<TestBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'repondeur-chromium-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: opts.acceptDownloads ?? false,
    ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false,
    args: CHROMIUM_ARGS,
  });
  const allow = opts.allow ?? /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/;
  await context.route((url) => !allow.test(url.toString()), (route) => route.abort());
  return {
    context,
    dir,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
