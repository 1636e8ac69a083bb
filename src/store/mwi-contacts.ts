import type { Kysely } from 'kysely';
import { z } from 'zod';
import { parseUri } from '../sip/uri.js';
import { NotFoundError, isUniqueViolation, ConflictError, parseOrThrow } from './errors.js';
import { lineNumber } from './lines.js';
import type { Database, StoreContext } from './tables.js';

/** A SIP URI that receives the line's message-waiting state unsolicited (Asterisk's `mailbox=` / `unsolicited_mwi`). */
export interface MwiContact {
  line: string;
  uri: string;
  createdAt: number;
}

/**
 * A contact URI: `sip:` (UDP, or `;transport=tcp`), a host (IP literal or name) and an optional port. No `sips:`
 * (no TLS transport here), no URI headers (they would end up in our NOTIFY).
 */
export const MwiContactUriSchema = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .superRefine((value, ctx) => {
    let u;
    try {
      u = parseUri(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a SIP URI (e.g. sip:phone@192.0.2.10:5060)` });
      return;
    }
    if (u.scheme !== 'sip') ctx.addIssue({ code: 'custom', message: 'only sip: URIs are supported (UDP or ;transport=tcp)' });
    else if (u.host === '') ctx.addIssue({ code: 'custom', message: 'the URI names no host' });
    else if (u.headers.size > 0) ctx.addIssue({ code: 'custom', message: 'URI headers (?…) are not allowed' });
    const t = u.params.get('transport');
    if (t !== undefined && t !== null && !['udp', 'tcp'].includes(t.toLowerCase())) ctx.addIssue({ code: 'custom', message: `transport=${t} is not supported (udp or tcp)` });
  });

/** Per-line contacts of unsolicited MWI, managed by the operator. */
export class MwiContactRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** The contacts of one line, or of every line, oldest first. */
  async list(line?: string): Promise<MwiContact[]> {
    let query = this.#ctx.db.selectFrom('mwi_contacts').selectAll();
    if (line !== undefined) query = query.where('line', '=', lineNumber(line));
    const rows = await query.orderBy('line').orderBy('created_at').orderBy('uri').execute();
    return rows.map((r) => ({ line: r.line, uri: r.uri, createdAt: Number(r.created_at) }));
  }

  /**
   * Adds a contact to an existing line (ConflictError when it is there already). The line's state is announced
   * at once through the store's `mailboxChanged` event, so the new contact gets its NOTIFY without waiting.
   */
  async add(line: string, uri: string): Promise<MwiContact> {
    const number = lineNumber(line);
    const value = parseOrThrow(MwiContactUriSchema, uri, 'uri');
    const exists = await this.#ctx.db.selectFrom('lines').select('number').where('number', '=', number).executeTakeFirst();
    if (exists === undefined) throw new NotFoundError(`line ${number} does not exist`);
    const createdAt = this.#ctx.clock();
    try {
      await (this.#ctx.db as Kysely<Database>).insertInto('mwi_contacts').values({ line: number, uri: value, created_at: createdAt }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`${value} already receives the MWI of line ${number}`);
      throw err;
    }
    this.#ctx.mailboxChanged?.(number);
    return { line: number, uri: value, createdAt };
  }

  /** Removes a contact; NotFoundError when the line has no such contact. */
  async remove(line: string, uri: string): Promise<void> {
    const number = lineNumber(line);
    const result = await this.#ctx.db.deleteFrom('mwi_contacts').where('line', '=', number).where('uri', '=', uri.trim()).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new NotFoundError(`line ${number} has no MWI contact ${uri.trim()}`);
  }
}
