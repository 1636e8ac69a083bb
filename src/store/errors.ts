import type { z } from 'zod';

/** Base class of every error the store throws on purpose: bad input, missing rows, conflicts, database failures. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A line, message, greeting or outbox job that does not exist (the message names which). */
export class NotFoundError extends StoreError {
  override readonly name: string = 'NotFoundError';
}

/** Creating something that already exists (a line number that is already provisioned). */
export class ConflictError extends StoreError {
  override readonly name: string = 'ConflictError';
}

/** Input rejected at the edge; `issues` lists each offending field as `path: message`. */
export class ValidationError extends StoreError {
  override readonly name: string = 'ValidationError';
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(issues.join('; '));
    this.issues = issues;
  }

  static fromZod(error: z.ZodError, prefix?: string): ValidationError {
    return new ValidationError(
      error.issues.map((issue) => {
        const segments = issue.path.map(String);
        const path = [prefix, ...segments].filter((p) => p !== undefined && p !== '').join('.');
        if (path === '') return issue.message;
        // Messages already open with their field's name ("audioFormat must be …"): widen that name to the full path.
        const field = segments.at(-1) ?? prefix ?? '';
        if (field !== '' && (issue.message.startsWith(`${field} `) || issue.message.startsWith(`${field}:`))) {
          return path + issue.message.slice(field.length);
        }
        return `${path}: ${issue.message}`;
      }),
    );
  }
}

/** Parses `input` with `schema`, turning a zod failure into a {@link ValidationError} naming the fields. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ValidationError.fromZod(result.error, prefix);
  return result.data;
}

/** True when a driver error is a primary-key / unique violation (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_*). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
