/**
 * Each RFC 4475 / RFC 5118 request of test/fixtures/torture/ sent over real UDP to a running `repondeur serve`,
 * with the answer the RFC asks for. Responses in the corpus get no answer (§18.1.2), so they are not sent.
 *
 * The only change made to the bytes: in the top Via the transport becomes UDP and the sent-by becomes our
 * socket's 127.0.0.1:port, so that §18.2.2 routing brings the answer back to this test (the corpus was written
 * for hosts like 192.0.2.15). A top Via the server cannot read at all (badinv01, badvers) is left as it is: its
 * answer goes to the source address.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const DIR = join(__dirname, '../fixtures/torture');

/** Fixture → status of the final answer. */
const EXPECTED: Record<string, number> = {
  // RFC 4475 §3.1.1 valid messages, served: an unknown method gets 501 with Allow (§8.2.1, intmeth text); wsinv
  // carries a To tag for a dialog we do not have, so §12.2.2 answers 481.
  wsinv: 481, intmeth: 501, semiuri: 200, transports: 200, esc01: 404, escnull: 405, esc02: 501, lwsdisp: 200,
  // dblreq: only the REGISTER counts (we are no registrar: 405 with Allow, §8.2.1).
  dblreq: 405,
  // §3.1.2 invalid messages: 400, or 505 for SIP/7.0.
  badinv01: 400, clerr: 400, ncl: 400, scalar02: 400, quotbal: 400, ltgtruri: 400, lwsruri: 400, lwsstart: 400,
  trws: 400, escruri: 400, regbadct: 400, badaspec: 400, baddn: 400, badvers: 505, mismatch01: 400, mismatch02: 400,
  // Application-layer semantics.
  insuf: 400, multi01: 400, mcl01: 400, unkscm: 416, novelsc: 416, unksm2: 405, bext01: 420, invut: 415, sdp01: 406,
  // zeromf: Max-Forwards 0 matters to proxies only; a UAS answers (§16.3 is for proxies).
  zeromf: 200,
  // inv2543 (§3.4.1): RFC 2543 syntax is served (the number is no line of ours: 404).
  inv2543: 404,
  // RFC 5118.
  // RFC 5118; we are no registrar, so a well-formed REGISTER gets 405 with Allow (§8.2.1); the INVITE is parsed
  // and reaches the line lookup (404: no such line).
  'ipv6-good': 405, 'ipv6-bad': 400, 'port-ambiguous': 405, 'port-unambiguous': 405, 'via-received-param-with-delim': 200,
  'via-received-param-no-delim': 200, 'mult-ip-in-header': 481,
  // ipv4-mapped-ipv6 (§4.9) offers G726-32 only: 488 with Warning 305 (RFC 3261 §13.3.1.1).
  'ipv4-mapped-ipv6': 488, 'ipv6-bug-abnf-3-colons': 400,
  'ipv6-correct-abnf-2-colons': 200,
  // mpart01 (§3.1.1.11): parsed whole (553-byte binary multipart body); MESSAGE is a method we do not serve.
  mpart01: 405,
  // longreq (§3.1.1.7): well formed, long; the INVITE reaches the line lookup (404: no such line).
  longreq: 404,
  // baddate (§3.1.2.12): "An element wishing to be liberal in what it accepts could ignore this value altogether
  // if it wasn't going to use the Date header field anyway" — we never read Date: served like any INVITE (404).
  baddate: 404,
  // badbranch (§3.2.1): "could reject the request with a 400 Response ... or it could fall back to the RFC
  // 2543-style transaction identifier" — we keep the branch as the key and answer the OPTIONS (200).
  badbranch: 200,
  // regaut01 (§3.3.7), cparam01 (§3.3.12), cparam02 (§3.3.13), regescrt (§3.3.14): well-formed REGISTERs; we are
  // no registrar, so 405 with Allow (§8.2.1), as for every REGISTER.
  regaut01: 405, cparam01: 405, cparam02: 405, regescrt: 405,
  // RFC 5118 §4.6, §4.8: IPv6 in the SDP; both INVITEs are parsed. ipv6-in-sdp offers G726-32 only: 488 with
  // Warning 305 (RFC 3261 §13.3.1.1, §20.43); mult-ip-in-sdp offers PCMU and reaches the line lookup (404).
  'ipv6-in-sdp': 488, 'mult-ip-in-sdp': 404,
};

/** Responses of the corpus: no answer (§18.1.2), no crash; the server must still answer what comes next. */
const RESPONSES = ['unreason', 'noreason', 'scalarlg', 'bigcode', 'bcast'];

let server: ServerProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startServerProcess({ REPONDEUR_VOICEMAIL_SILENCE_SECONDS: '0' });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

/** Points the top Via at `port` over UDP (see the file comment), leaving every other byte alone. */
function aimTopVia(raw: Buffer, port: number): Buffer {
  const text = raw.toString('latin1');
  const via = /\r\n(?:via|v)[ \t]*:[ \t]*(?:\r\n[ \t]+)?SIP[ \t]*\/[ \t]*2\.0[ \t]*(?:\r\n[ \t]+)?\/[ \t]*(?:\r\n[ \t]+)?([A-Za-z]+)(\s+)([^;,\s]+)/i.exec(text);
  if (!via) return raw;
  const start = via.index + via[0].length - via[3]!.length - via[2]!.length - via[1]!.length;
  const rewritten = `${text.slice(0, start)}UDP${via[2]}127.0.0.1:${port}${text.slice(start + via[1]!.length + via[2]!.length + via[3]!.length)}`;
  return Buffer.from(rewritten, 'latin1');
}

/** Sends `name` from a fresh socket and resolves with the first final response (or the status 0 for a 1xx-only call). */
async function answerTo(name: string): Promise<{ status: number; text: string }> {
  const sock = createSocket('udp4');
  sockets.push(sock);
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const bytes = aimTopVia(readFileSync(join(DIR, `${name}.sip`)), sock.address().port);
  return new Promise((resolve) => {
    sock.on('message', (m: Buffer) => {
      const text = m.toString('utf8');
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);
      // A call that is accepted rings first: 180 counts as "served" for INVITEs that reach a line.
      if (status >= 200) resolve({ status, text });
      else if (status === 180 || status === 183) resolve({ status: 0, text });
    });
    sock.send(bytes, server.sipPort, '127.0.0.1');
  });
}

/** An OPTIONS to the server from `sock`, with its own Call-ID, to check that the server is alive and answers. */
function probe(port: number, callId: string): Buffer {
  return Buffer.from([
    'OPTIONS sip:probe@127.0.0.1 SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    'To: <sip:probe@127.0.0.1>', 'From: <sip:torture@127.0.0.1>;tag=t1', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
  ].join('\r\n'));
}

describe('RFC 4475 responses over real UDP get no answer and do not break the server', () => {
  test.each(RESPONSES)('%s → dropped, the next request is answered', async (name) => {
    const sock = createSocket('udp4');
    sockets.push(sock);
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    const port = sock.address().port;
    const first = new Promise<string>((resolve) => sock.once('message', (m: Buffer) => resolve(m.toString('utf8'))));
    // bcast keeps its 255.255.255.255 second Via: aiming the top Via at us means a wrongly forwarded or
    // answered response would come back here before the probe's answer.
    sock.send(aimTopVia(readFileSync(join(DIR, `${name}.sip`)), port), server.sipPort, '127.0.0.1');
    const callId = `probe-after-${name}`;
    sock.send(probe(port, callId), server.sipPort, '127.0.0.1');
    const text = await first;
    expect(text).toMatch(/^SIP\/2\.0 200 /);
    expect(text).toMatch(new RegExp(`\r\nCall-ID: ${callId}\r\n`, 'i'));
  }, 15000);
});

describe('RFC 4475 / RFC 5118 torture requests over real UDP', () => {
  test.each(Object.entries(EXPECTED))('%s → %i', async (name, status) => {
    const { status: got, text } = await answerTo(name);
    expect({ got, text: got === status ? '' : text }).toEqual({ got: status, text: '' });
    if (status === 400 || status === 505) expect(text).toMatch(/\r\nWarning: 399 /);
    if (status === 488) expect(text).toMatch(/\r\nWarning: 305 /);
    if (status === 405) expect(text).toMatch(/\r\nAllow: /i);
  }, 15000);
});
