/**
 * Cases SIPp cannot drive precisely (it answers duplicate responses itself): hand-written datagrams over a raw UDP
 * socket against a real `repondeur serve` process.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket } from 'node:dgram';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { until } from '../helpers/wait.js';

let server: ServerProcess;
let sock: Socket;
const inbox: string[] = [];

beforeAll(async () => {
  server = await startServerProcess({ REPONDEUR_SIP_ANSWER_DELAY_MS: '800', REPONDEUR_VOICEMAIL_SILENCE_SECONDS: '0' });
  sock = createSocket('udp4');
  sock.on('message', (m) => inbox.push(m.toString('utf8')));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  sock?.close();
  await server?.stop();
});

function send(text: string): void {
  sock.send(Buffer.from(text.replace(/\n/g, '\r\n')), server.sipPort, '127.0.0.1');
}

async function waitFor(pred: (m: string) => boolean, count = 1, ms = 5000): Promise<string[]> {
  await until(`${count} matching message(s)`, () => inbox.filter(pred).length >= count, ms).catch((err: Error) => {
    throw new Error(`${err.message}\ngot:\n${inbox.join('\n----\n')}`);
  });
  return inbox.filter(pred);
}

const port = (): number => sock.address().port;
const sdp = 'v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 49170 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n';

function invite(callId: string, branch: string): string {
  const body = sdp.replace(/\n/g, '\r\n');
  return `INVITE sip:+33912345678@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port()};branch=${branch};rport
From: <sip:0611223344@127.0.0.1>;tag=raw1
To: <sip:+33912345678@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:raw@127.0.0.1:${port()}>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: ${Buffer.byteLength(body)}

${sdp}`;
}

/** ACK (CSeq 1) then BYE (CSeq 2) within the dialog the 200 `ok` established. */
function ackThenBye(callId: string, ok: string, branchPrefix: string): void {
  const toTag = /To: [^\r\n]*;tag=([^\s;\r\n]+)/.exec(ok)![1];
  for (const [method, cseq] of [['ACK', 1], ['BYE', 2]] as const) {
    send(`${method} sip:repondeur@127.0.0.1:${server.sipPort} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port()};branch=${branchPrefix}-${method.toLowerCase()}
From: <sip:0611223344@127.0.0.1>;tag=raw1
To: <sip:+33912345678@127.0.0.1>;tag=${toTag}
Call-ID: ${callId}
CSeq: ${cseq} ${method}
Max-Forwards: 70
Content-Length: 0

`);
  }
}

describe('raw UDP', () => {
  test('an INVITE retransmitted while ringing gets the last provisional again (§17.2.1), then one 200', async () => {
    const callId = `raw-retrans-${Date.now()}`;
    const mine = (m: string): boolean => m.includes(`Call-ID: ${callId}`);
    send(invite(callId, 'z9hG4bK-raw-1'));
    await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 180'));
    send(invite(callId, 'z9hG4bK-raw-1'));
    await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 180'), 2);
    const [ok] = await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 200'));
    ackThenBye(callId, ok!, 'z9hG4bK-raw');
    await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 200') && /CSeq: 2 BYE/.test(m));
    expect(inbox.filter((m) => mine(m) && m.startsWith('SIP/2.0 1')).map((m) => m.split('\r\n')[0])).toEqual([
      'SIP/2.0 100 Trying',
      'SIP/2.0 180 Ringing',
      'SIP/2.0 180 Ringing',
    ]);
  });

  test('Record-Route of the INVITE is copied, in order, into the dialog-creating 180 and 200 (§12.1.1)', async () => {
    const callId = `raw-rr-${Date.now()}`;
    const mine = (m: string): boolean => m.includes(`Call-ID: ${callId}`);
    const rr = ['Record-Route: <sip:p2.example.net;lr;ftag=raw1>', 'Record-Route: <sip:p1.example.com;lr>'];
    send(invite(callId, 'z9hG4bK-raw-rr').replace('Max-Forwards: 70\n', `Max-Forwards: 70\n${rr.join('\n')}\n`));
    const [ringing] = await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 180'));
    const [ok] = await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 200'));
    for (const res of [ringing!, ok!]) expect(res.split('\r\n').filter((l) => l.startsWith('Record-Route:'))).toEqual(rr);
    ackThenBye(callId, ok!, 'z9hG4bK-raw-rr');
    await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 200') && /CSeq: 2 BYE/.test(m));
  });

  test('an INVITE whose SDP comes in a multipart body with ISUP (SIP-I trunks, RFC 5621) is answered with SDP', async () => {
    const callId = `raw-multipart-${Date.now()}`;
    const mine = (m: string): boolean => m.includes(`Call-ID: ${callId}`);
    const body = `--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp.replace(/\n/g, '\r\n')}\r\n--b1\r\nContent-Type: application/ISUP;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x00\x49\x00\r\n--b1--\r\n`;
    const head = invite(callId, 'z9hG4bK-raw-mp').split('\n\n')[0]!
      .replace('Content-Type: application/sdp', 'Content-Type: multipart/mixed;boundary=b1')
      .replace(/Content-Length: \d+/, `Content-Length: ${Buffer.byteLength(body)}`);
    sock.send(Buffer.concat([Buffer.from(head.replace(/\n/g, '\r\n') + '\r\n\r\n'), Buffer.from(body)]), server.sipPort, '127.0.0.1');
    const [ok] = await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 200'), 1, 8000);
    expect(ok).toMatch(/m=audio \d+ RTP\/AVP 0/);
    ackThenBye(callId, ok!, 'z9hG4bK-raw-mp');
    await waitFor((m) => mine(m) && m.startsWith('SIP/2.0 200') && /CSeq: 2 BYE/.test(m));
  });

  test.each([
    ['a CSeq without a number', (c: string) => invite(c, 'z9hG4bK-bad-1').replace('CSeq: 1 INVITE', 'CSeq: abc INVITE'), /CSeq/i],
    ['a CSeq method that differs from the request method', (c: string) => invite(c, 'z9hG4bK-bad-2').replace('CSeq: 1 INVITE', 'CSeq: 1 OPTIONS'), /CSeq|method/i],
    ['a Content-Length larger than the body', (c: string) => invite(c, 'z9hG4bK-bad-3').replace(/Content-Length: \d+/, 'Content-Length: 9999'), /Content-Length|body/i],
    ['a Max-Forwards that is not a number', (c: string) => invite(c, 'z9hG4bK-bad-4').replace('Max-Forwards: 70', 'Max-Forwards: many'), /Max-Forwards/i],
  ])('%s is answered 400 with the reason, and the server lives on', async (_what, make, reason) => {
    const tag = `bad-${Math.random().toString(36).slice(2)}`;
    send(make(tag));
    const [res] = await waitFor((m) => m.startsWith('SIP/2.0 400') && m.includes(tag));
    expect(res!.split('\r\n')[0]).toMatch(reason);
    expect(res).toMatch(/Warning: 399 /);
  });

  test('garbage is dropped without an answer and without harm', async () => {
    const before = inbox.length;
    sock.send(Buffer.from([0x80, 0x08, 0x00, 0x01, 0xff, 0xfe]), server.sipPort, '127.0.0.1');
    sock.send(Buffer.from('NOT SIP AT ALL\r\n\r\n'), server.sipPort, '127.0.0.1');
    send(`OPTIONS sip:+33912345678@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port()};branch=z9hG4bK-alive
From: <sip:a@127.0.0.1>;tag=a
To: <sip:+33912345678@127.0.0.1>
Call-ID: alive-${Date.now()}
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`);
    await waitFor((m) => m.startsWith('SIP/2.0 200') && m.includes('CSeq: 1 OPTIONS'));
    expect(inbox.length).toBe(before + 1);
  });
});
