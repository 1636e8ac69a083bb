import type { Kysely, Transaction } from 'kysely';

/**
 * Row shapes as stored. Every instant is epoch milliseconds (BIGINT; pg int8 is parsed to number);
 * audio is BLOB (SQLite) / bytea (PostgreSQL), always read back as a Buffer; JSON documents are TEXT.
 */
export interface LinesTable {
  number: string;
  routing: string;
  pin_hash: string | null;
  language: string;
  /** JSON of VoicemailSettings. */
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  id: string;
  line: string;
  caller: string;
  callee: string;
  caller_name: string | null;
  creation_datetime: number;
  duration_ms: number;
  dir: string;
  heard_at: number | null;
  audio: Buffer;
  audio_size: number;
}

export interface GreetingsTable {
  line: string;
  kind: string;
  duration_ms: number;
  creation_datetime: number;
  audio: Buffer;
  audio_size: number;
}

export interface AuthFailuresTable {
  id: string;
  line: string;
  source: string;
  remote: string | null;
  at: number;
}

export interface OutboxTable {
  id: string;
  /** Set to NULL when the message is deleted; the copy below is what the e-mail still needs. */
  message_id: string | null;
  line: string;
  recipient: string;
  type: string;
  format: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  sent_at: number | null;
  smtp_message_id: string | null;
  created_at: number;
  caller: string;
  callee: string;
  caller_name: string | null;
  message_datetime: number;
  duration_ms: number;
  /** While a sender holds the job (claimed, not yet marked): the end of its lease; null otherwise. */
  leased_until: number | null;
  /** Why a pending job waits: 'relay' (unreachable, time-out) or 'reply' (a 4yz answer); null when not deferred. */
  deferred_for: string | null;
}

export interface RetentionLogTable {
  id: string;
  message_id: string;
  line: string;
  reason: string;
  at: number;
  /** JSON object. */
  details: string;
}

export interface Database {
  lines: LinesTable;
  messages: MessagesTable;
  greetings: GreetingsTable;
  auth_failures: AuthFailuresTable;
  outbox: OutboxTable;
  retention_log: RetentionLogTable;
  ovh_consumer_keys: OvhConsumerKeysTable;
  mwi_contacts: MwiContactsTable;
}

export interface MwiContactsTable {
  line: string;
  /** A SIP URI that receives the line's message-summary NOTIFYs unsolicited. */
  uri: string;
  created_at: number;
}

export interface OvhConsumerKeysTable {
  /** SHA-256 hex of the consumer key. */
  key_hash: string;
  application_key: string;
  /** SHA-256 hex of the validationUrl token. */
  validation_token_hash: string;
  state: string;
  line: string | null;
  created_at: number;
  expires_at: number;
}

export type StoreDialect = 'sqlite' | 'postgres';

/** What every repository runs its queries on: the store's Kysely or a transaction of it. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly clock: () => number;
  /** Called with the line whose message counts may have changed (deposit, move, heard, delete, retention). */
  readonly mailboxChanged?: (line: string) => void;
  /** Called with a new message that was committed (and not evicted at once by retention): the mailer wakes up. */
  readonly messageStored?: (messageId: string, line: string) => void;
}

/** Runs `fn` in a transaction, joining the caller's when `db` is already one. */
export function inTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute((trx: Transaction<Database>) => fn(trx));
}

/** A Buffer view of caller bytes, as both drivers accept for BLOB/bytea parameters (no copy when possible). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
