import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** The web manager's files (plain HTML/CSS/JS, no build step) and their Content-Type. */
const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'docs.html': 'text/html; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'i18n.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
  'docs.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** Everything is served from this origin; audio may also come from blob: URLs. No inline script anywhere. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * The directory holding the files: `web/` next to this module under ts-jest/ts-node (src/api/web); when
 * compiled to dist/api/, tsc does not copy them, so the source tree's src/api/web is used.
 */
export function webRoot(): string {
  const candidates = [join(__dirname, 'web'), resolve(__dirname, '..', '..', 'src', 'api', 'web')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (found === undefined) throw new Error(`web manager files not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * Serves the web manager at `/` and its files at `/assets/<name>`, and the API reference page at `/docs`.
 * Files are read once at start-up; only the names listed above exist, so no request can reach another file.
 */
export function registerWebAssets(app: FastifyInstance, root = webRoot()): void {
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(join(root, name)) }]));
  const send = (name: string) => {
    const file = files.get(name)!;
    return { type: file.type, body: file.body };
  };
  const headers = (type: string) => ({
    'content-type': type,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });

  app.get('/', { config: { access: 'public' } }, async (_request, reply) => {
    const { type, body } = send('index.html');
    return reply.headers(headers(type)).send(body);
  });
  app.get('/docs', { config: { access: 'public' } }, async (_request, reply) => {
    const { type, body } = send('docs.html');
    return reply.headers(headers(type)).send(body);
  });
  app.get<{ Params: { name: string } }>('/assets/:name', { config: { access: 'public' } }, async (request, reply) => {
    const name = request.params.name;
    if (!files.has(name) || name === 'index.html' || name === 'docs.html') {
      return reply.code(404).send({ error: 'not_found', message: `no asset named ${JSON.stringify(name.slice(0, 64))}` });
    }
    const { type, body } = send(name);
    return reply.headers(headers(type)).send(body);
  });
}
