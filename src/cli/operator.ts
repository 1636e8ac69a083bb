/**
 * Operator sub-commands of `repondeur`: provision lines, route them, set PINs, list and export messages, and
 * see failed PIN attempts (the lockout shared by the dial-in service and the web manager), issue and revoke
 * consumer keys of the OVH-compatible API.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../shared/config.js';
import { toE164 } from '../shared/e164.js';
import { reencodeStoredWav } from '../shared/audio/transcode.js';
import { OvhCredentialRegistry } from '../api/routes/ovh/credentials.js';
import {
  AUDIO_FORMATS,
  DEFAULT_LOCKOUT_POLICY,
  FOLDERS,
  LANGUAGES,
  ROUTINGS,
  StoreError,
  openStore,
  type Store,
} from '../store/index.js';
import { isAudioFormat } from '../shared/audio/index.js';

export const OPERATOR_USAGE = `usage:
  repondeur line add <number> [--pin P] [--routing fax|voicemail] [--language fr|en]
  repondeur line list [--json]
  repondeur line remove <number>
  repondeur line route <number> fax|voicemail
  repondeur line set-pin <number> <pin>
  repondeur messages list --line <number> [--dir ${FOLDERS.join('|')}] [--json]
  repondeur messages export --line <number> --id <id> [--format ${AUDIO_FORMATS.join('|')}] [--out file]
  repondeur auth failures [--line <number>] [--json]
  repondeur ovh credential --line <number> [--app <applicationKey>] [--json]
  repondeur ovh revoke [--] <consumerKey>            (-- before a key that starts with "-")
  repondeur outbox list [--status pending|failed|sent] [--line <number>] [--json]
  repondeur outbox retry <job id> | --all          (failed or waiting notifications: due now)
  repondeur retention log [--line <number>] [--json]
  repondeur mwi list [--line <number>] [--json] | mwi add <number> <sip:uri> | mwi remove <number> <sip:uri>
`;

/** Where the command writes: stdout (text or audio bytes) and stderr. Defaults to the process's. */
export interface OperatorIo {
  out: (chunk: string | Buffer) => void;
  err: (text: string) => void;
}

/** A mistake in the command line itself: usage is printed and the exit status is 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  pin: { type: 'string' },
  routing: { type: 'string' },
  language: { type: 'string' },
  json: { type: 'boolean' },
  line: { type: 'string' },
  dir: { type: 'string' },
  id: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  app: { type: 'string' },
  status: { type: 'string' },
  all: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

interface Invocation {
  positionals: string[];
  values: Values;
  store: Store;
  config: Config;
  io: OperatorIo;
}

/**
 * Runs one operator command (argv without the program name, e.g. `['line', 'add', '+33912345678']`) against the
 * store of `config.database.url`. Returns the exit status: 0 success, 1 failure (message on stderr), 2 usage error.
 */
export async function runOperatorCommand(argv: string[], config: Config, io: Partial<OperatorIo> = {}): Promise<number> {
  const sink: OperatorIo = {
    out: io.out ?? ((chunk) => void process.stdout.write(chunk)),
    err: io.err ?? ((text) => void process.stderr.write(text)),
  };
  let parsedArgs: { positionals: string[]; values: Values };
  try {
    parsedArgs = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    sink.err(`repondeur: ${(err as Error).message}\n${OPERATOR_USAGE}`);
    return 2;
  }
  const command = parsedArgs.positionals.slice(0, 2).join(' ');
  const handler = COMMANDS[command];
  if (handler === undefined) {
    sink.err(`repondeur: unknown command "${command}"\n${OPERATOR_USAGE}`);
    return 2;
  }
  let store: Store | undefined;
  try {
    // One command and out: SQLite on this thread opens faster than a worker (`?worker=1` in the URL still wins).
    store = await openStore(config.database.url, { sqliteWorker: false });
    await handler({ positionals: parsedArgs.positionals.slice(2), values: parsedArgs.values, store, config, io: sink });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      sink.err(`repondeur ${command}: ${err.message}\n${OPERATOR_USAGE}`);
      return 2;
    }
    const message = err instanceof StoreError || err instanceof Error ? err.message : String(err);
    sink.err(`repondeur ${command}: ${message}\n`);
    return 1;
  } finally {
    await store?.close();
  }
}

function number(raw: string | undefined, what: string, config: Config): string {
  if (raw === undefined) throw new UsageError(`missing ${what}`);
  const e164 = toE164(raw, config.voicemail.countryCode);
  if (e164 === undefined) throw new UsageError(`${what} "${raw}" is not a telephone number`);
  return e164;
}

function oneOf<T extends string>(raw: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`${what} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}

function expectPositionals(inv: Invocation, count: number): void {
  if (inv.positionals.length > count) throw new UsageError(`unexpected argument "${inv.positionals[count]}"`);
}

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

/** Left-aligned columns separated by two spaces, with a header row. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

function print(inv: Invocation, data: unknown, headers: string[], rows: string[][]): void {
  inv.io.out(inv.values.json ? `${JSON.stringify(data, null, 2)}\n` : formatTable(headers, rows));
}

const COMMANDS: Record<string, (inv: Invocation) => Promise<void>> = {
  async 'line add'(inv) {
    expectPositionals(inv, 1);
    const line = await inv.store.lines.create({
      number: number(inv.positionals[0], 'number', inv.config),
      pin: inv.values.pin,
      routing: oneOf(inv.values.routing, ROUTINGS, '--routing'),
      language: oneOf(inv.values.language, LANGUAGES, '--language'),
    });
    inv.io.out(`line ${line.number} added (routing ${line.routing}, language ${line.language}${line.hasPin ? ', PIN set' : ''})\n`);
  },

  async 'line list'(inv) {
    expectPositionals(inv, 0);
    const lines = await inv.store.lines.list({ limit: 10_000 });
    print(
      inv,
      lines.map((l) => ({ number: l.number, routing: l.routing, language: l.language, hasPin: l.hasPin, createdAt: iso(l.createdAt) })),
      ['NUMBER', 'ROUTING', 'LANGUAGE', 'PIN', 'CREATED'],
      lines.map((l) => [l.number, l.routing, l.language, l.hasPin ? 'yes' : 'no', iso(l.createdAt)]),
    );
  },

  async 'line remove'(inv) {
    expectPositionals(inv, 1);
    const n = number(inv.positionals[0], 'number', inv.config);
    await inv.store.lines.delete(n);
    inv.io.out(`line ${n} removed with its messages and greetings\n`);
  },

  async 'line route'(inv) {
    expectPositionals(inv, 2);
    const n = number(inv.positionals[0], 'number', inv.config);
    const routing = oneOf(inv.positionals[1], ROUTINGS, 'routing');
    if (routing === undefined) throw new UsageError(`missing routing (${ROUTINGS.join(' or ')})`);
    await inv.store.lines.setRouting(n, routing);
    inv.io.out(`line ${n} now routed to ${routing}\n`);
  },

  async 'line set-pin'(inv) {
    expectPositionals(inv, 2);
    const n = number(inv.positionals[0], 'number', inv.config);
    const pin = inv.positionals[1];
    if (pin === undefined) throw new UsageError('missing pin');
    await inv.store.lines.setPin(n, pin);
    inv.io.out(`PIN of line ${n} changed\n`);
  },

  async 'messages list'(inv) {
    expectPositionals(inv, 0);
    const line = number(inv.values.line, '--line', inv.config);
    const dir = oneOf(inv.values.dir, FOLDERS, '--dir');
    const messages = await inv.store.messages.list({ line, dir, limit: 10_000 });
    print(
      inv,
      messages.map((m) => ({ ...m, creationDatetime: iso(m.creationDatetime), heardAt: iso(m.heardAt) || null })),
      ['ID', 'CALLER', 'DATE', 'DURATION', 'DIR'],
      messages.map((m) => [m.id, m.caller, iso(m.creationDatetime), `${m.duration}s`, m.dir]),
    );
  },

  async 'messages export'(inv) {
    expectPositionals(inv, 0);
    const line = number(inv.values.line, '--line', inv.config);
    const id = inv.values.id;
    if (id === undefined) throw new UsageError('missing --id');
    const format = inv.values.format ?? 'wav';
    if (!isAudioFormat(format)) throw new UsageError(`--format must be one of ${AUDIO_FORMATS.join(', ')} (got "${format}")`);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`--id "${id}" is not a message id`);
    const message = await inv.store.messages.get(id.toLowerCase());
    if (message.line !== line) throw new StoreError(`message ${id} does not belong to line ${line}`);
    const audio = await reencodeStoredWav(await inv.store.messages.getAudio(message.id), format);
    if (inv.values.out === undefined) {
      inv.io.out(audio.data);
    } else {
      await writeFile(inv.values.out, audio.data);
      inv.io.err(`wrote ${audio.data.length} bytes (${audio.mimeType}) to ${inv.values.out}\n`);
    }
  },

  async 'auth failures'(inv) {
    expectPositionals(inv, 0);
    const line = inv.values.line === undefined ? undefined : number(inv.values.line, '--line', inv.config);
    const failures = await inv.store.authFailures.list({ line });
    const now = Date.now();
    const lockedUntil = new Map<string, number | null>();
    for (const f of failures) {
      if (!lockedUntil.has(f.line)) lockedUntil.set(f.line, await inv.store.authFailures.lockedUntil(f.line, now, DEFAULT_LOCKOUT_POLICY));
    }
    print(
      inv,
      {
        locks: [...lockedUntil].map(([l, until]) => ({ line: l, lockedUntil: until === null ? null : iso(until) })),
        failures: failures.map((f) => ({ ...f, at: iso(f.at) })),
      },
      ['LINE', 'SOURCE', 'REMOTE', 'AT', 'LOCKED UNTIL'],
      failures.map((f) => [f.line, f.source, f.remote ?? '', iso(f.at), iso(lockedUntil.get(f.line) ?? null)]),
    );
  },

  async 'ovh credential'(inv) {
    expectPositionals(inv, 0);
    const line = number(inv.values.line, '--line', inv.config);
    const applications = inv.config.api.ovhApplications;
    // The application the key is for: --app, or the only one configured (api.ovhApplications).
    const appKey = inv.values.app ?? (applications.length === 1 ? applications[0]!.key : undefined);
    if (appKey === undefined) {
      throw new UsageError(applications.length === 0 ? 'no OVH application configured (api.ovhApplications)' : `several OVH applications configured: choose one with --app (${applications.map((a) => a.key).join(', ')})`);
    }
    if (!applications.some((a) => a.key === appKey)) throw new StoreError(`no OVH application "${appKey}" in api.ovhApplications`);
    await inv.store.lines.get(line);
    const registry = new OvhCredentialRegistry(applications, inv.store.ovhConsumerKeys, Date.now);
    const consumerKey = await registry.issue(appKey, line);
    if (inv.values.json) inv.io.out(`${JSON.stringify({ consumerKey, state: 'validated', line, applicationKey: appKey }, null, 2)}\n`);
    else inv.io.out(`${consumerKey}\n`);
  },

  async 'ovh revoke'(inv) {
    expectPositionals(inv, 1);
    const consumerKey = inv.positionals[0];
    if (consumerKey === undefined) throw new UsageError('missing consumer key');
    const registry = new OvhCredentialRegistry(inv.config.api.ovhApplications, inv.store.ovhConsumerKeys, Date.now);
    if (!(await registry.revoke(consumerKey))) throw new StoreError('no such consumer key (already revoked or expired?)');
    inv.io.out('consumer key revoked\n');
  },

  async 'outbox list'(inv) {
    expectPositionals(inv, 0);
    const status = oneOf(inv.values.status, ['pending', 'failed', 'sent'] as const, '--status');
    const line = inv.values.line === undefined ? undefined : number(inv.values.line, '--line', inv.config);
    const jobs = await inv.store.outbox.list({ ...(status ? { status } : {}), ...(line ? { line } : {}) });
    print(
      inv,
      jobs.map((j) => ({ ...j, nextAttemptAt: j.status === 'pending' ? iso(j.nextAttemptAt) : null, sentAt: iso(j.sentAt), createdAt: iso(j.createdAt) })),
      ['ID', 'LINE', 'RECIPIENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST ERROR'],
      jobs.map((j) => [j.id, j.line, j.recipient, j.status, String(j.attempts), j.status === 'pending' ? iso(j.nextAttemptAt) : '', (j.lastError ?? '').slice(0, 80)]),
    );
  },

  async 'outbox retry'(inv) {
    expectPositionals(inv, 1);
    const id = inv.positionals[0];
    if ((id === undefined) === (inv.values.all !== true)) throw new UsageError('give one job id or --all');
    const retried = await inv.store.outbox.retryNow(Date.now(), id);
    if (id !== undefined && retried.length === 0) {
      const job = await inv.store.outbox.get(id);
      throw new StoreError(`notification job ${id} is ${job.status === 'sent' ? 'already sent' : 'being sent right now (its sender holds it)'}`);
    }
    inv.io.out(`${retried.length} notification(s) due again now\n`);
  },

  async 'retention log'(inv) {
    expectPositionals(inv, 0);
    const line = inv.values.line === undefined ? undefined : number(inv.values.line, '--line', inv.config);
    const entries = await inv.store.retentionLog.list(line ? { line } : {});
    print(
      inv,
      entries.map((e) => ({ ...e, at: iso(e.at) })),
      ['AT', 'LINE', 'MESSAGE', 'REASON', 'DETAILS'],
      entries.map((e) => [iso(e.at), e.line, e.messageId, e.reason, JSON.stringify(e.details)]),
    );
  },

  async 'mwi list'(inv) {
    expectPositionals(inv, 0);
    const line = inv.values.line === undefined ? undefined : number(inv.values.line, '--line', inv.config);
    const contacts = await inv.store.mwiContacts.list(line);
    print(
      inv,
      contacts.map((c) => ({ ...c, createdAt: iso(c.createdAt) })),
      ['LINE', 'CONTACT', 'ADDED'],
      contacts.map((c) => [c.line, c.uri, iso(c.createdAt)]),
    );
  },

  async 'mwi add'(inv) {
    expectPositionals(inv, 2);
    const [raw, uri] = inv.positionals;
    if (uri === undefined) throw new UsageError('give the line and the SIP URI: mwi add <number> <sip:uri>');
    const contact = await inv.store.mwiContacts.add(number(raw, 'line', inv.config), uri);
    inv.io.out(`${contact.uri} receives the MWI of ${contact.line} (from the next change, or the next start of the server)\n`);
  },

  async 'mwi remove'(inv) {
    expectPositionals(inv, 2);
    const [raw, uri] = inv.positionals;
    if (uri === undefined) throw new UsageError('give the line and the SIP URI: mwi remove <number> <sip:uri>');
    await inv.store.mwiContacts.remove(number(raw, 'line', inv.config), uri);
    inv.io.out('MWI contact removed\n');
  },
};
