import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The official OVH Node.js client's factory (npm `ovh`). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const ovh = require('ovh') as (p: Record<string, unknown>) => { requestPromised(method: string, path: string, params?: object): Promise<unknown> };
export type OvhClient = ReturnType<typeof ovh>;

export const TEST_APP = { key: 'repondeurTestApp', secret: 'a-secret-of-the-test-application', name: 'test' };

/**
 * TLS in front of the API, as in production behind a reverse proxy (the Host header is passed on), with a
 * self-signed certificate for localhost that the process's https.globalAgent trusts until `close`. `upstream()`
 * is read on every request, so the API behind may be restarted on another port.
 */
export interface OvhTlsFront {
  port: number;
  cert: Buffer;
  /** The official client, configured only with our host, port, base path and credentials. */
  client(consumerKey?: string, appSecret?: string): OvhClient;
  close(): Promise<void>;
}

export async function startOvhTlsFront(upstream: () => string): Promise<OvhTlsFront> {
  const dir = mkdtempSync(join(tmpdir(), 'repondeur-ovh-'));
  let tls: https.Server | undefined;
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      const up = http.request(`${upstream()}${req.url}`, { method: req.method, headers: { ...req.headers, 'x-forwarded-proto': 'https' } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    tls = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const savedCa = https.globalAgent.options.ca;
    https.globalAgent.options.ca = cert;
    return {
      port,
      cert,
      client: (consumerKey, appSecret = TEST_APP.secret) =>
        ovh({ appKey: TEST_APP.key, appSecret, ...(consumerKey ? { consumerKey } : {}), host: 'localhost', port, basePath: '/1.0' }),
      async close() {
        https.globalAgent.options.ca = savedCa;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  } catch (err) {
    tls?.close();
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GET over HTTPS trusting the front's certificate; resolves the body. */
export function httpsGet(url: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/**
 * A request signed by hand the way the OVH clients do, with a chosen timestamp, through the TLS front on `port`
 * (the official Node client signs no /auth/* path, so /auth/logout needs this).
 */
export function signedRequest(port: number, method: string, path: string, consumerKey: string, timestamp: number): Promise<{ status: number; body: string }> {
  const url = `https://localhost${path}`;
  const signature = '$1$' + createHash('sha1').update([TEST_APP.secret, consumerKey, method, url, '', timestamp].join('+')).digest('hex');
  return new Promise((resolve, reject) => {
    const req = https.request({ host: 'localhost', port, method, path, headers: { 'X-Ovh-Application': TEST_APP.key, 'X-Ovh-Consumer': consumerKey, 'X-Ovh-Timestamp': String(timestamp), 'X-Ovh-Signature': signature } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** PUT of raw bytes over HTTPS (a document's putUrl), trusting the front's certificate, as OVH scripts do. */
export function httpsPut(url: string, body: Buffer, contentType: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'PUT', headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
