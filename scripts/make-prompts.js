#!/usr/bin/env node
'use strict';
/**
 * Generates the spoken prompts from prompts/catalogue.json with espeak-ng and sox:
 * prompts/<lang>/<id>.wav, 8 kHz mono 16-bit signed PCM, leading and trailing silence trimmed,
 * normalised to -3 dBFS.
 *
 * Only prompts whose text, voice or processing changed are regenerated: prompts/manifest.json
 * records a hash per file. Prompts removed from the catalogue have their WAV deleted.
 * The generated files are committed, so running the product needs neither espeak-ng nor sox.
 *
 * Usage: node scripts/make-prompts.js [--force] [--check] [--lang fr,en]
 *   --force  regenerate every prompt
 *   --check  generate nothing; exit 1 listing what is missing or stale (needs neither tool)
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PROMPTS_DIR = path.resolve(__dirname, '..', 'prompts');
const CATALOGUE_FILE = path.join(PROMPTS_DIR, 'catalogue.json');
const MANIFEST_FILE = path.join(PROMPTS_DIR, 'manifest.json');

/** Voice per language; part of each prompt's hash, so changing it regenerates that language. */
const VOICES = {
  fr: { voice: 'fr', speed: 150, pitch: 50 },
  en: { voice: 'en-us', speed: 150, pitch: 50 },
};

/**
 * sox effects after decoding espeak-ng's 22.05 kHz output: trim silence at both ends
 * (silence 1 … reverse silence 1 … reverse), normalise to -3 dBFS, resample to 8 kHz.
 * Part of every hash: editing it regenerates everything.
 */
const SOX_EFFECTS = ['silence', '1', '0.02', '0.3%', 'reverse', 'silence', '1', '0.02', '0.3%', 'reverse', 'gain', '-n', '-3', 'rate', '-v', '8000'];
const PIPELINE_VERSION = 1;

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;

function fail(message) {
  process.stderr.write(`make-prompts: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { force: false, check: false, languages: Object.keys(VOICES) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') args.force = true;
    else if (arg === '--check') args.check = true;
    else if (arg === '--lang') {
      const value = argv[++i];
      if (!value) fail('--lang needs a comma-separated list, e.g. --lang fr,en');
      args.languages = value.split(',');
      for (const lang of args.languages) if (!VOICES[lang]) fail(`unknown language "${lang}" (known: ${Object.keys(VOICES).join(', ')})`);
    } else fail(`unknown argument "${arg}" (usage: make-prompts.js [--force] [--check] [--lang fr,en])`);
  }
  return args;
}

function readCatalogue(languages) {
  let catalogue;
  try {
    catalogue = JSON.parse(fs.readFileSync(CATALOGUE_FILE, 'utf8'));
  } catch (err) {
    fail(`cannot read ${CATALOGUE_FILE}: ${err.message}`);
  }
  if (catalogue === null || typeof catalogue !== 'object' || Array.isArray(catalogue)) fail(`${CATALOGUE_FILE}: expected an object id → { fr, en }`);
  for (const [id, entry] of Object.entries(catalogue)) {
    if (!ID_PATTERN.test(id)) fail(`${CATALOGUE_FILE}: prompt id "${id}" is not snake_case ASCII`);
    for (const lang of languages) {
      const text = entry && entry[lang];
      if (typeof text !== 'string' || text.trim() === '') fail(`${CATALOGUE_FILE}: prompt "${id}" has no "${lang}" text`);
    }
  }
  return catalogue;
}

function readManifest() {
  try {
    const manifest = JSON.parse(fs.readFileSync(MANIFEST_FILE, 'utf8'));
    if (manifest && typeof manifest.files === 'object') return manifest;
  } catch {
    // no manifest yet, or unreadable: every prompt is regenerated
  }
  return { files: {} };
}

function hashOf(lang, text) {
  const recipe = JSON.stringify({ text, voice: VOICES[lang], effects: SOX_EFFECTS, version: PIPELINE_VERSION });
  return crypto.createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}

/** Fails with the Debian package to install when a tool is missing. */
function requireTool(command, versionArg, debianPackage) {
  const probe = spawnSync(command, [versionArg], { stdio: 'ignore' });
  if (probe.error) {
    fail(`"${command}" is not installed (${probe.error.code}); install the Debian package: apt-get install -y ${debianPackage}`);
  }
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

async function generate(job, tmpDir) {
  const { voice, speed, pitch } = VOICES[job.lang];
  const raw = path.join(tmpDir, `${job.lang}-${job.id}.raw.wav`);
  const out = path.join(tmpDir, `${job.lang}-${job.id}.wav`);
  await run('espeak-ng', ['-v', voice, '-s', String(speed), '-p', String(pitch), '-w', raw, '--', job.text]);
  await run('sox', ['-D', raw, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', out, ...SOX_EFFECTS]);
  fs.renameSync(out, job.file);
  fs.rmSync(raw, { force: true });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const catalogue = readCatalogue(args.languages);
  const manifest = readManifest();
  const nextFiles = { ...manifest.files };
  const jobs = [];
  const stale = [];

  for (const lang of args.languages) {
    const langDir = path.join(PROMPTS_DIR, lang);
    fs.mkdirSync(langDir, { recursive: true });
    for (const [id, entry] of Object.entries(catalogue)) {
      const key = `${lang}/${id}`;
      const file = path.join(langDir, `${id}.wav`);
      const hash = hashOf(lang, entry[lang]);
      if (args.force || manifest.files[key] !== hash || !fs.existsSync(file)) jobs.push({ lang, id, text: entry[lang], file, key, hash });
    }
    for (const name of fs.readdirSync(langDir)) {
      const id = name.replace(/\.wav$/, '');
      if (name.endsWith('.wav') && !Object.hasOwn(catalogue, id)) stale.push(path.join(langDir, name));
    }
    for (const key of Object.keys(nextFiles)) {
      if (key.startsWith(`${lang}/`) && !Object.hasOwn(catalogue, key.slice(lang.length + 1))) delete nextFiles[key];
    }
  }

  if (args.check) {
    for (const job of jobs) process.stdout.write(`out of date: ${job.key}\n`);
    for (const file of stale) process.stdout.write(`not in catalogue: ${path.relative(PROMPTS_DIR, file)}\n`);
    process.exit(jobs.length + stale.length === 0 ? 0 : 1);
  }

  for (const file of stale) fs.rmSync(file);
  if (jobs.length > 0) {
    requireTool('espeak-ng', '--version', 'espeak-ng');
    requireTool('sox', '--version', 'sox');
  }

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'make-prompts-'));
  let done = 0;
  try {
    const queue = jobs.slice();
    const workers = Array.from({ length: Math.max(1, os.cpus().length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        await generate(job, tmpDir);
        nextFiles[job.key] = job.hash;
        done++;
      }
    });
    await Promise.all(workers);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    const sorted = Object.fromEntries(Object.entries(nextFiles).sort(([a], [b]) => a.localeCompare(b)));
    fs.writeFileSync(MANIFEST_FILE, JSON.stringify({ version: PIPELINE_VERSION, format: '8 kHz mono 16-bit PCM WAV', files: sorted }, null, 2) + '\n');
  }
  process.stdout.write(`make-prompts: ${done} generated, ${stale.length} removed, ${Object.keys(nextFiles).length - done} up to date\n`);
}

main().catch((err) => fail(err.message));
