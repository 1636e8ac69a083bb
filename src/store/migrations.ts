import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from './tables.js';

/**
 * The store's schema history, defined in code, one list for both dialects. Dialect differences are confined to
 * column types chosen here: audio is `blob` on SQLite and `bytea` on PostgreSQL; instants are `bigint` on both
 * (SQLite gives it INTEGER affinity, 64-bit).
 *
 * Never edit an applied migration: append a new one.
 */
function migrations(dialect: StoreDialect): Record<string, Migration> {
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    '0001_initial': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('lines')
          .addColumn('number', 'text', (c) => c.primaryKey())
          .addColumn('routing', 'text', (c) => c.notNull())
          .addColumn('pin_hash', 'text')
          .addColumn('language', 'text', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        // The audio lives in the message row itself: a message can never exist without it nor it without a message.
        await db.schema
          .createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('line', 'text', (c) => c.notNull().references('lines.number').onDelete('cascade'))
          .addColumn('caller', 'text', (c) => c.notNull())
          .addColumn('callee', 'text', (c) => c.notNull())
          .addColumn('caller_name', 'text')
          .addColumn('creation_datetime', 'bigint', (c) => c.notNull())
          .addColumn('duration_ms', 'bigint', (c) => c.notNull())
          .addColumn('dir', 'text', (c) => c.notNull())
          .addColumn('heard_at', 'bigint')
          .addColumn('audio', binary, (c) => c.notNull())
          .addColumn('audio_size', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('messages_line_age')
          .on('messages')
          .columns(['line', 'creation_datetime', 'id'])
          .execute();
        await db.schema.createIndex('messages_age').on('messages').columns(['creation_datetime', 'id']).execute();

        await db.schema
          .createTable('greetings')
          .addColumn('line', 'text', (c) => c.notNull().references('lines.number').onDelete('cascade'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('duration_ms', 'bigint', (c) => c.notNull())
          .addColumn('creation_datetime', 'bigint', (c) => c.notNull())
          .addColumn('audio', binary, (c) => c.notNull())
          .addColumn('audio_size', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('greetings_pk', ['line', 'kind'])
          .execute();

        // No foreign key: failures against unknown numbers are recorded too (and must not reveal which exist).
        await db.schema
          .createTable('auth_failures')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('line', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('remote', 'text')
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('auth_failures_line_at').on('auth_failures').columns(['line', 'at']).execute();

        await db.schema
          .createTable('outbox')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('message_id', 'text', (c) => c.references('messages.id').onDelete('set null'))
          .addColumn('line', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('format', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('sent_at', 'bigint')
          .addColumn('smtp_message_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('caller', 'text', (c) => c.notNull())
          .addColumn('callee', 'text', (c) => c.notNull())
          .addColumn('caller_name', 'text')
          .addColumn('message_datetime', 'bigint', (c) => c.notNull())
          .addColumn('duration_ms', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();
        await db.schema.createIndex('outbox_message').on('outbox').column('message_id').execute();

        await db.schema
          .createTable('retention_log')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('line', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull().defaultTo(sql.lit('{}')))
          .execute();
        await db.schema.createIndex('retention_log_line_at').on('retention_log').columns(['line', 'at']).execute();
        await db.schema.createIndex('retention_log_at').on('retention_log').column('at').execute();
      },
      async down(db: Kysely<any>): Promise<void> {
        for (const table of ['retention_log', 'outbox', 'auth_failures', 'greetings', 'messages', 'lines']) {
          await db.schema.dropTable(table).ifExists().execute();
        }
      },
    },
    // OVH-compatible API consumer keys (src/api/routes/ovh/credentials.ts), kept only as SHA-256 so a restart keeps
    // them and a dump does not give them away. `line` is null while the key waits for the subscriber's validation.
    '0002_ovh_consumer_keys': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('ovh_consumer_keys')
          .addColumn('key_hash', 'text', (c) => c.primaryKey())
          .addColumn('application_key', 'text', (c) => c.notNull())
          .addColumn('validation_token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('line', 'text', (c) => c.references('lines.number').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ovh_consumer_keys_expires').on('ovh_consumer_keys').column('expires_at').execute();
      },
      async down(db: Kysely<any>): Promise<void> {
        await db.schema.dropTable('ovh_consumer_keys').ifExists().execute();
      },
    },
    // The outbox's lease made explicit (`leased_until`, set while a sender holds the job) and why a pending job waits
    // (`deferred_for`: 'relay' — the relay could not be reached or timed out — or 'reply', a 4yz answer to this very
    // mail). "Retry now" and the wake-up after an outage touch only unleased jobs, so neither hands a job that is
    // being sent to a second sender; only 'relay' jobs are pulled forward when the relay accepts again.
    '0003_outbox_lease_and_deferral': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema.alterTable('outbox').addColumn('leased_until', 'bigint').execute();
        await db.schema.alterTable('outbox').addColumn('deferred_for', 'text').execute();
      },
      async down(db: Kysely<any>): Promise<void> {
        await db.schema.alterTable('outbox').dropColumn('deferred_for').execute();
        await db.schema.alterTable('outbox').dropColumn('leased_until').execute();
      },
    },
    // Unsolicited message-waiting NOTIFYs (Asterisk's `mailbox=` / `unsolicited_mwi`): the SIP URIs that get the
    // line's counts on every change and at start, without subscribing (src/mwi/unsolicited-mwi.ts).
    '0004_mwi_contacts': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('mwi_contacts')
          .addColumn('line', 'text', (c) => c.notNull().references('lines.number').onDelete('cascade'))
          .addColumn('uri', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('mwi_contacts_pk', ['line', 'uri'])
          .execute();
      },
      async down(db: Kysely<any>): Promise<void> {
        await db.schema.dropTable('mwi_contacts').ifExists().execute();
      },
    },
  };
}

/** The Kysely MigrationProvider of the store, for `dialect`. */
export class StoreMigrationProvider implements MigrationProvider {
  readonly #dialect: StoreDialect;
  constructor(dialect: StoreDialect) {
    this.#dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.#dialect);
  }
}
