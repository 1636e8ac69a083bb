import type { z } from 'zod';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { GreetingInfo, Line, Message, Store, VoicemailSettings } from '../store/index.js';
import type { SessionRegistry } from './auth.js';
import type { lineParamSchema } from './validation.js';

/** What every route module is given. */
export interface ApiContext {
  store: Store;
  config: Config;
  logger: Logger;
  clock: () => number;
  sessions: SessionRegistry;
  /** `:line` URL parameter → E.164 (country of `config.voicemail.countryCode`). */
  lineParam: ReturnType<typeof lineParamSchema>;
}

/** Documentation of a route for the OpenAPI document, set in its `config.doc`. */
export interface RouteDoc {
  summary: string;
  tags: string[];
  /** Success status and what it returns (JSON unless `contentType` says otherwise). */
  success: { status: number; description: string; contentType?: string };
  /** The request body is a multipart/form-data file upload (field `file`). */
  upload?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc;
  }
}

/** The validated (zod-parsed) part of a request: the validator compiler replaced the raw value by the parsed one. */
export function parsed<S extends z.ZodType>(_schema: S, value: unknown): z.output<S> {
  return value as z.output<S>;
}

/** ISO 8601 (UTC) of an epoch-ms instant. */
export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function lineView(line: Line) {
  return {
    number: line.number,
    routing: line.routing,
    language: line.language,
    hasPin: line.hasPin,
    createdAt: iso(line.createdAt),
    updatedAt: iso(line.updatedAt),
  };
}

/** A message as the operator API calls it: a "directory" entry. */
export function messageView(m: Message) {
  return {
    id: m.id,
    caller: m.caller,
    callee: m.callee,
    callerName: m.callerName,
    creationDatetime: iso(m.creationDatetime),
    duration: m.duration,
    durationMs: m.durationMs,
    dir: m.dir,
    heardAt: m.heardAt === null ? null : iso(m.heardAt),
    size: m.size,
  };
}

export function greetingView(g: GreetingInfo) {
  return { kind: g.kind, duration: g.duration, durationMs: g.durationMs, creationDatetime: iso(g.creationDatetime), size: g.size };
}

export function settingsView(settings: VoicemailSettings, unreadMessages: number) {
  return { ...settings, unreadMessages };
}
