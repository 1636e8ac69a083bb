import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { toE164 } from '../shared/e164.js';
import { GreetingKindSchema, ValidationError } from '../store/index.js';

/**
 * Lets routes declare zod schemas in `schema.{params,querystring,body}`: the compiled validator returns the
 * parsed (and transformed) value, or an Error whose message names each offending field
 * (`body.redirectionEmails: at most 5 addresses`). Fastify answers it with 400 through our error handler.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'input');
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const error = ValidationError.fromZod(result.error, part);
    // The first offending field (`body.redirectionEmails.1.email`) lets a page say which input to fix.
    const field = [part, ...(result.error.issues[0]?.path ?? []).map(String)].join('.');
    return { error: Object.assign(new Error(error.message), { statusCode: 400, code: 'FST_ERR_VALIDATION', field }) };
  };
};

/**
 * A line in a URL: E.164, URL-encoded (`%2B33912345678`) or not, or the same digits without the plus
 * (`33912345678`), or the national form (`0912345678`) of the configured country.
 */
export function lineParamSchema(countryCode: string) {
  return z
    .string()
    .max(32, { error: 'line: at most 32 characters' })
    .transform((raw, ctx) => {
      const number = toE164(raw, countryCode);
      if (number === undefined || !/^\+[1-9]\d{1,14}$/.test(number)) {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is not a telephone number (expected like +33912345678)` });
        return z.NEVER;
      }
      return number;
    })
    .meta({ description: 'E.164 number, URL-encoded (%2B33912345678) or plain digits (33912345678)', example: '%2B33912345678' });
}

/** Message ids are UUIDs as the store creates them; anything else (`../x`, `%00`) is refused before any lookup. */
export const MessageIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { error: 'id must be a message id (UUID)' })
  .transform((id) => id.toLowerCase());

export { GreetingKindSchema };
