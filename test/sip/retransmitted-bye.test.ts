/**
 * A BYE retransmitted after its dialog ended, through the whole UAS core: a real SipTransport on loopback, a raw UDP
 * peer, the user agent's timers on a manual clock. RFC 3261 §17.2.2: "While in the "Completed" state, the server
 * transaction MUST pass the final response to the transport layer for retransmission whenever a retransmission of
 * the request is received" — the copy is matched to the Completed transaction before the dialog layer (which no
 * longer knows the dialog, and would answer 481) sees it. Only once Timer J (64*T1) has ended that transaction is a
 * copy a new request: then 481 (§15.1.2).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { pino } from 'pino';
import { ManualClock } from '../../src/shared/clock.js';
import { SipTransport } from '../../src/sip/transport/transport.js';
import { SipUserAgent } from '../../src/sip/user-agent.js';
import type { IncomingInvite } from '../../src/sip/incoming-invite.js';

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
const T1 = 500;
const clock = new ManualClock();
let transport: SipTransport;
let ua: SipUserAgent;
let socket: Socket;
const received: string[] = [];
let waiters: Array<() => void> = [];

beforeAll(async () => {
  transport = new SipTransport({ host: '127.0.0.1', port: 0, transports: ['udp'], logger });
  await transport.start();
  ua = new SipUserAgent({ transport, logger, clock, timers: { T1 } });
  ua.on('invite', (invite: IncomingInvite) => void invite.accept({ address: '127.0.0.1', port: 4002, sessionId: '1', sessionVersion: 1 }));
  socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  socket.on('message', (b) => {
    received.push(b.toString('latin1'));
    for (const w of waiters.splice(0)) w();
  });
});

afterAll(async () => {
  socket?.close();
  await transport?.stop();
});

async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise<void>((r) => waiters.push(r));
}

function send(method: string, o: { branch: string; cseq: number; toTag?: string; sdp?: boolean }): void {
  const port = socket.address().port;
  const body = o.sdp ? 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n' : '';
  const lines = [
    `${method} sip:+33912345678@127.0.0.1:${transport.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${o.branch}`,
    'Max-Forwards: 70',
    'From: <sip:caller@127.0.0.1>;tag=caller',
    `To: <sip:+33912345678@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    'Call-ID: retransmitted-bye@test',
    `CSeq: ${o.cseq} ${method}`,
    `Contact: <sip:caller@127.0.0.1:${port}>`,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  socket.send(lines.join('\r\n'), transport.port, '127.0.0.1');
}

const answersTo = (method: string): string[] => received.filter((m) => new RegExp(`^CSeq: *\\d+ ${method}\\r?$`, 'im').test(m));
const statusOf = (m: string): string => m.slice(0, m.indexOf('\r\n'));
const toTagOf = (m: string): string | undefined => /^To:.*;tag=([^;\r\n]+)/im.exec(m)?.[1];

test('the copy of a BYE gets the same 200 from the Completed transaction, not 481; after Timer J a copy gets 481', async () => {
  send('INVITE', { branch: 'z9hG4bK-inv', cseq: 1, sdp: true });
  await until(() => answersTo('INVITE').some((m) => statusOf(m).startsWith('SIP/2.0 200')));
  const tag = toTagOf(answersTo('INVITE').find((m) => statusOf(m).startsWith('SIP/2.0 200'))!)!;
  send('ACK', { branch: 'z9hG4bK-ack', cseq: 1, toTag: tag });
  await until(() => ua.dialogCount === 1 && ua.transactionCount === 1);

  send('BYE', { branch: 'z9hG4bK-bye', cseq: 2, toTag: tag });
  await until(() => answersTo('BYE').length === 1);
  expect(ua.dialogCount).toBe(0);
  const first = answersTo('BYE')[0]!;
  expect(statusOf(first)).toBe('SIP/2.0 200 OK');

  clock.advance(10 * T1);
  send('BYE', { branch: 'z9hG4bK-bye', cseq: 2, toTag: tag });
  await until(() => answersTo('BYE').length === 2);
  // The retransmission of the same response: byte for byte.
  expect(answersTo('BYE')[1]).toBe(first);
  expect(toTagOf(answersTo('BYE')[1]!)).toBe(tag);

  clock.advance(64 * T1);
  expect(ua.transactionCount).toBe(0);
  send('BYE', { branch: 'z9hG4bK-bye', cseq: 2, toTag: tag });
  await until(() => answersTo('BYE').length === 3);
  expect(statusOf(answersTo('BYE')[2]!)).toBe('SIP/2.0 481 Call/Transaction Does Not Exist');
});
