import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import type { Access } from './auth.js';
import type { RouteDoc } from './context.js';
import { ERROR_CODES } from './errors.js';

type JsonSchema = Record<string, unknown>;

interface CollectedRoute {
  method: string;
  url: string;
  access: Access;
  doc: RouteDoc;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

function isZod(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType;
}

/**
 * Builds the OpenAPI 3.1 document from the routes themselves: an onRoute hook collects every documented
 * route with its zod schemas, so the document covers exactly what the server answers.
 */
export class OpenApiCollector {
  readonly #routes: CollectedRoute[] = [];
  #document: JsonSchema | undefined;

  /** Register as `app.addHook('onRoute', collector.onRoute)` before the routes. */
  readonly onRoute = (route: RouteOptions): void => {
    const doc = route.config?.doc;
    if (doc === undefined) return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      this.#routes.push({
        method: method.toLowerCase(),
        url: route.url,
        access: route.config?.access ?? 'operator',
        doc,
        params: isZod(schema.params) ? schema.params : undefined,
        querystring: isZod(schema.querystring) ? schema.querystring : undefined,
        body: isZod(schema.body) ? schema.body : undefined,
      });
    }
    this.#document = undefined;
  };

  /** The routes collected so far, as `METHOD /path` (for tests). */
  routeKeys(): string[] {
    return this.#routes.map((r) => `${r.method.toUpperCase()} ${r.url}`);
  }

  document(info: { title: string; version: string }): JsonSchema {
    this.#document ??= this.#build(info);
    return this.#document;
  }

  #build(info: { title: string; version: string }): JsonSchema {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.#routes) {
      const path = route.url.replace(/:([A-Za-z_]\w*)/g, '{$1}');
      paths[path] ??= {};
      paths[path][route.method] = operation(route);
    }
    return {
      openapi: '3.1.0',
      info: {
        ...info,
        description:
          'Management API of répondeur. Operator: Authorization: Bearer <api.operatorToken>. Subscriber: POST /api/v1/auth/login ' +
          'with line and PIN, then the returned token as Bearer or the session cookie; a subscriber reaches only their line.',
      },
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'operator token or subscriber session token' },
          session: { type: 'apiKey', in: 'cookie', name: 'repondeur_session' },
        },
        schemas: {
          Error: {
            type: 'object',
            required: ['error', 'message'],
            properties: { error: { type: 'string', enum: Object.values(ERROR_CODES) }, message: { type: 'string' } },
          },
        },
      },
    };
  }
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const json = toJsonSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: CollectedRoute): JsonSchema {
  const { doc } = route;
  const responses: Record<string, unknown> = {
    [doc.success.status]:
      doc.success.status === 204
        ? { description: doc.success.description }
        : { description: doc.success.description, content: { [doc.success.contentType ?? 'application/json']: {} } },
    400: errorResponse('Invalid input; the message names the field'),
  };
  if (route.access !== 'public') {
    responses[401] = errorResponse('Missing, invalid or expired credentials');
    responses[403] = errorResponse(route.access === 'operator' ? 'Operator only' : 'Another line than the session’s');
  }
  if (route.params !== undefined) responses[404] = errorResponse('Unknown line, message or greeting');
  if (route.method === 'post' && route.url.endsWith('/lines')) responses[409] = errorResponse('The line already exists');
  if (doc.upload) responses[413] = errorResponse('The file is larger than the upload limit');
  if (route.url.endsWith('/auth/login')) responses[429] = errorResponse('Locked after too many wrong PINs');

  const op: JsonSchema = {
    operationId: `${route.method}${route.url.replace(/^\/api\/v1/, '').replace(/[/:{}]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: doc.summary,
    tags: doc.tags,
    parameters: [...parameters(route.params, 'path'), ...parameters(route.querystring, 'query')],
    responses,
  };
  if (route.access !== 'public') op.security = [{ bearer: [] }, { session: [] }];
  if (route.access === 'operator') op['x-operator-only'] = true;
  if (route.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: toJsonSchema(route.body) } } };
  } else if (doc.upload) {
    op.requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
        },
      },
    };
  }
  return op;
}
