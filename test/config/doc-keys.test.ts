/**
 * Every configuration key the docs name in backticks (`voicemail.silenceSeconds`, `lockout.{maxFailures, …}`,
 * `dialin.keys.main.listen`) exists: in config/default.json, which holds every key, and in the schema, which
 * refuses unknown ones.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/shared/config.js';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  'prompts/README.md',
  'deploy/kamailio/README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const SECTIONS = Object.keys(ConfigSchema.shape);
/** Dotted names in the docs that share a section's name but are not configuration keys: store methods. */
const NOT_CONFIG_KEYS = new Set(['outbox.claimDue', 'outbox.listForMessage']);

/** `a.{b, c}` → a.b, a.c; a trailing `.*` is dropped (a whole section). */
function expand(name: string): string[] {
  const brace = /^(.*)\{([^}]*)\}(.*)$/.exec(name);
  if (brace) return brace[2]!.split(',').flatMap((part) => expand(`${brace[1]}${part.trim()}${brace[3]}`));
  return [name.replace(/\.\*$/, '')];
}

const DOTTED = /`([a-z][A-Za-z0-9]*(?:\.(?:[A-Za-z0-9*]+|\{[A-Za-z0-9, ]+\}))+)`/g;

/**
 * The configuration keys named in a Markdown file: backticked dotted names whose first part is a section, and the
 * bare names listed after one (`lockout.maxFailures`, `windowSeconds` → lockout.windowSeconds).
 */
function keysNamed(markdown: string): string[] {
  const names = [...markdown.matchAll(DOTTED)].map((m) => m[1]!);
  for (const list of markdown.matchAll(/`([a-z][A-Za-z0-9]*)\.[A-Za-z0-9]+`((?:, `[a-z][A-Za-z0-9]*`)+)/g)) {
    for (const bare of list[2]!.matchAll(/`([a-z][A-Za-z0-9]*)`/g)) names.push(`${list[1]}.${bare[1]}`);
  }
  return names
    .flatMap(expand)
    .filter((name) => SECTIONS.includes(name.split('.')[0]!) && !/\.(ts|js|json|md|xml)$/.test(name) && !NOT_CONFIG_KEYS.has(name));
}

function exists(config: unknown, key: string): boolean {
  let at: unknown = config;
  for (const part of key.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) return false;
    at = (at as Record<string, unknown>)[part];
  }
  return true;
}

describe('configuration keys named in the docs', () => {
  const config = loadConfig({});
  const defaults = JSON.parse(readFileSync(path.join(ROOT, 'config', 'default.json'), 'utf8')) as unknown;

  test('the extraction finds them, braces included', () => {
    expect(keysNamed('`lockout.{maxFailures, lockSeconds}` and `voicemail.silenceSeconds`, not `owner.json` nor `admission.ts`')).toEqual([
      'lockout.maxFailures',
      'lockout.lockSeconds',
      'voicemail.silenceSeconds',
    ]);
    expect(keysNamed('`voicemail.lockout.*`')).toEqual(['voicemail.lockout']);
    expect(keysNamed('| `retention.maxMessages`, `maxAgeDays`, `sweepIntervalSeconds` |')).toEqual([
      'retention.maxMessages',
      'retention.maxAgeDays',
      'retention.sweepIntervalSeconds',
    ]);
  });

  test.each(DOCS)('%s names only keys that exist', (file) => {
    const named = keysNamed(readFileSync(path.join(ROOT, file), 'utf8'));
    const missing = [...new Set(named)].filter((key) => !exists(config, key) || !exists(defaults, key));
    expect(missing).toEqual([]);
  });

  test('README and the dial-in doc name a good share of them', () => {
    expect(keysNamed(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).length).toBeGreaterThan(40);
    expect(keysNamed(readFileSync(path.join(ROOT, 'docs', 'dialin-menu.md'), 'utf8'))).toContain('lockout.lockSeconds');
  });
});
