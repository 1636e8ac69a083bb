import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema, type Config } from '../shared/config.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const DEFAULTS_PATH = join(__dirname, '..', '..', 'config', 'default.json');

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: JsonObject, over: JsonObject, where: string): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const path = where ? `${where}.${k}` : k;
    if (!(k in base)) throw new ConfigError(`unknown configuration key "${path}"`);
    out[k] = isObject(base[k]) && isObject(v) ? merge(base[k] as JsonObject, v, path) : v;
  }
  return out;
}

/** camelCase path → REPONDEUR_SECTION_KEY (e.g. rtp.portMin → REPONDEUR_RTP_PORT_MIN). */
export function envName(path: string[]): string {
  return 'REPONDEUR_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function coerce(raw: string, like: Json, name: string): Json {
  if (typeof like === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${name}: "${raw}" is not a number`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${name}: "${raw}" is not a boolean`);
  }
  if (Array.isArray(like)) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return raw;
}

function applyEnv(obj: JsonObject, env: NodeJS.ProcessEnv, path: string[] = []): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    const p = [...path, k];
    if (isObject(v)) {
      out[k] = applyEnv(v, env, p);
      continue;
    }
    const name = envName(p);
    const raw = env[name];
    out[k] = raw === undefined ? v : coerce(raw, v, name);
  }
  return out;
}

/**
 * Loads config/default.json, then the JSON file named by REPONDEUR_CONFIG, then REPONDEUR_* variables
 * (and DATABASE_URL), then `overrides`; validates the result and names the bad key on error.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: JsonObject = {}): Config {
  let merged = JSON.parse(readFileSync(DEFAULTS_PATH, 'utf8')) as JsonObject;
  const file = env.REPONDEUR_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read REPONDEUR_CONFIG file ${file}: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) throw new ConfigError(`REPONDEUR_CONFIG file ${file} must hold a JSON object`);
    merged = merge(merged, parsed, '');
  }
  merged = applyEnv(merged, env);
  if (env.DATABASE_URL && !env.REPONDEUR_DATABASE_URL) (merged.database as JsonObject).url = env.DATABASE_URL;
  merged = merge(merged, overrides, '');
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const first = result.error.issues[0]!;
    const key = first.path.join('.');
    throw new ConfigError(`invalid configuration key "${key}": ${first.message}`);
  }
  return result.data;
}

export type { Config };
