#!/usr/bin/env node
'use strict';
/**
 * Makes sure the Debian tools the integration tests drive are present: installs them when we are root with
 * apt-get, otherwise stops with a message naming the package to install.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const TOOLS = [
  { bin: 'sipp', pkg: 'sip-tester', why: 'SIP scenarios' },
  { bin: 'ffmpeg', pkg: 'ffmpeg', why: 'checking our audio encoders with an independent decoder' },
  { bin: 'sox', pkg: 'sox', why: 'making test audio' },
  { bin: 'chromium', pkg: 'chromium', why: 'web manager tests in headless Chromium' },
  { bin: 'baresip', pkg: 'baresip-core', why: 'interoperability test with a real softphone' },
  { bin: 'strace', pkg: 'strace', why: 'slowing baresip down at every send in the MWI start-up test (test/interop/baresip-mwi.test.ts)' },
  { bin: 'linphonec', pkg: 'linphone-cli', why: 'interoperability test with linphone (long message, RFC 4733 dial-in)' },
  { bin: 'kamailio', pkg: 'kamailio', why: 'two nodes behind a SIP proxy (test/cluster/kamailio.test.ts)' },
];

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

const missing = TOOLS.filter((t) => !has(t.bin));
if (missing.length === 0) process.exit(0);

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (root && existsSync('/usr/bin/apt-get')) {
  const pkgs = missing.map((t) => t.pkg);
  process.stdout.write(`installing test tools: ${pkgs.join(' ')}\n`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (err) {
    process.stderr.write(`apt-get install ${pkgs.join(' ')} failed: ${err.message}\n`);
  }
}
const still = TOOLS.filter((t) => !has(t.bin));
if (still.length > 0) {
  for (const t of still) process.stderr.write(`missing test tool "${t.bin}" (${t.why}): install the Debian package "${t.pkg}" (apt-get install -y ${t.pkg})\n`);
  process.exit(1);
}
