import type { OvhConsumerKeysTable, StoreContext } from './tables.js';

/** A consumer key of the OVH-compatible API, known only by its SHA-256 (the key itself is never stored). */
export interface OvhConsumerKey {
  keyHash: string;
  applicationKey: string;
  state: 'pendingValidation' | 'validated';
  /** The line it acts for, once validated. */
  line: string | null;
  createdAt: number;
  expiresAt: number;
}

function toKey(row: OvhConsumerKeysTable): OvhConsumerKey {
  return {
    keyHash: row.key_hash,
    applicationKey: row.application_key,
    state: row.state === 'validated' ? 'validated' : 'pendingValidation',
    line: row.line,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The `ovh_consumer_keys` table: hashes in, hashes out; the caller hashes (src/api/routes/ovh/credentials.ts). */
export class OvhConsumerKeyRepository {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Records a pending consumer key; expired rows are purged on the way. */
  async insertPending(input: { keyHash: string; validationTokenHash: string; applicationKey: string; expiresAt: number }): Promise<void> {
    const now = this.#ctx.clock();
    await this.#ctx.db.deleteFrom('ovh_consumer_keys').where('expires_at', '<=', now).execute();
    await this.#ctx.db
      .insertInto('ovh_consumer_keys')
      .values({
        key_hash: input.keyHash,
        application_key: input.applicationKey,
        validation_token_hash: input.validationTokenHash,
        state: 'pendingValidation',
        line: null,
        created_at: now,
        expires_at: input.expiresAt,
      })
      .execute();
  }

  /** The unexpired key with this hash, if any. */
  async find(keyHash: string): Promise<OvhConsumerKey | undefined> {
    const row = await this.#ctx.db
      .selectFrom('ovh_consumer_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .where('expires_at', '>', this.#ctx.clock())
      .executeTakeFirst();
    return row === undefined ? undefined : toKey(row);
  }

  /** Validates the pending, unexpired key behind `validationTokenHash` for `line`; false when there is none. */
  async validate(validationTokenHash: string, line: string, expiresAt: number): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('ovh_consumer_keys')
      .set({ state: 'validated', line, expires_at: expiresAt })
      .where('validation_token_hash', '=', validationTokenHash)
      .where('state', '=', 'pendingValidation')
      .where('expires_at', '>', this.#ctx.clock())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Deletes the key with this hash; false when there was none. */
  async revoke(keyHash: string): Promise<boolean> {
    const result = await this.#ctx.db.deleteFrom('ovh_consumer_keys').where('key_hash', '=', keyHash).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
