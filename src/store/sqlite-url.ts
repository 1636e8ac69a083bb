import { z } from 'zod';
import { StoreError } from './errors.js';

/** Where a `sqlite:` URL points, and the thread it asks SQLite to run on. */
export interface SqliteLocation {
  /** A file path, or `:memory:`. */
  path: string;
  /** `?worker=0|1` in the URL: run SQLite in a worker thread (1) or on the caller's thread (0); undefined if absent. */
  worker: boolean | undefined;
}

const SqliteUrlParamsSchema = z
  .object({
    worker: z.enum(['0', '1'], { error: 'worker must be 0 or 1' }).optional(),
  })
  .strict();

/** A trailing `?key=value[&key=value…]` is read as URL parameters; any other `?` belongs to the file name. */
const PARAMS = /\?([a-z_]+=[^&=?]*(?:&[a-z_]+=[^&=?]*)*)$/;

/**
 * Parses `sqlite:<path>`, `sqlite://<path>`, `sqlite::memory:` (also `sqlite:`), each optionally followed by
 * `?worker=0|1`. Throws StoreError on an unknown or malformed parameter.
 */
export function parseSqliteUrl(url: string): SqliteLocation {
  let rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
  let worker: boolean | undefined;
  const params = PARAMS.exec(rest);
  if (params !== null) {
    rest = rest.slice(0, params.index);
    const parsed = SqliteUrlParamsSchema.safeParse(Object.fromEntries(new URLSearchParams(params[1])));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : i.message));
      throw new StoreError(`bad SQLite URL parameters "?${params[1]}": ${issues.join('; ')}`);
    }
    if (parsed.data.worker !== undefined) worker = parsed.data.worker === '1';
  }
  return { path: rest === '' || rest === ':memory:' ? ':memory:' : rest, worker };
}
