import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApiServer } from '../../src/api/index.js';
import { collectEngineMetrics } from '../../src/metrics.js';
import { ConfigSchema, type Config } from '../../src/shared/config.js';
import type { Store } from '../../src/store/index.js';
import { TestDatabase, lineNumbers, toneWav, type Engine } from '../helpers/test-database.js';

export { ENGINES, PG_URL, TestDatabase, toneWav, type Engine } from '../helpers/test-database.js';
export const OPERATOR_TOKEN = 'operator-secret-token';

/** The default configuration with an operator token and a fresh database URL. */
export function testConfig(databaseUrl: string, overrides: { operatorToken?: string } = {}): Config {
  const raw = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'default.json'), 'utf8'));
  raw.database.url = databaseUrl;
  raw.api.operatorToken = overrides.operatorToken ?? OPERATOR_TOKEN;
  return ConfigSchema.parse(raw);
}

export interface Harness {
  db: TestDatabase;
  store: Store;
  config: Config;
  app: FastifyInstance;
  base: string;
  /** Moves the API's clock (sessions, lockout). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** Opens a store and serves the API on an ephemeral loopback port. */
export async function startHarness(
  engine: Engine,
  options: { maxUploadBytes?: number; operatorToken?: string } = {},
): Promise<Harness> {
  let offset = 0;
  const clock = () => Date.now() + offset;
  const db = new TestDatabase(engine);
  const store = await db.open({ clock });
  const config = testConfig(db.url, { operatorToken: options.operatorToken });
  const app = await createApiServer({
    store,
    config,
    logger: pino({ level: 'silent' }),
    clock,
    maxUploadBytes: options.maxUploadBytes,
    engineMetrics: collectEngineMetrics,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    db,
    store,
    config,
    app,
    base: `http://127.0.0.1:${port}`,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await app.close();
      await db.cleanup();
    },
  };
}

/** A fresh E.164 number per call. */
export const freshLine = lineNumbers('+3397');

/** Deposits a message of `seconds` seconds straight through the store. */
export async function depositMessage(store: Store, line: string, seconds = 2, caller = '+33612345678') {
  const { message } = await store.messages.create({
    line,
    caller,
    callee: line,
    durationMs: seconds * 1000,
    wav: toneWav(seconds),
  });
  return message;
}

export interface CallOptions {
  token?: string;
  cookie?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** fetch with JSON body and bearer token; returns status, headers and parsed JSON (or bytes). */
export async function call(base: string, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  let body: RequestInit['body'];
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(base + path, { method, headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const json = type.includes('application/json') && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : undefined;
  return { status: response.status, headers: response.headers, json, bytes };
}

/** Logs in as the subscriber of `line`; returns the session token. */
export async function login(base: string, line: string, pin: string): Promise<string> {
  const r = await call(base, 'POST', '/api/v1/auth/login', { body: { line, pin } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.token as string;
}

export const enc = encodeURIComponent;
