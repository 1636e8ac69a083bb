import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import { parseVia } from '../../../src/sip/headers.js';
import { createRequest, Headers, type Peer, type SipMessage, type SipRequest } from '../../../src/sip/message.js';
import { parseMessage } from '../../../src/sip/parser.js';
import { createResponse } from '../../../src/sip/response.js';
import { SipTransport } from '../../../src/sip/transport/transport.js';
import { until } from '../../helpers/wait.js';

const logger = pino({ level: 'silent' });

function request(via: string, opts: { method?: string; cseqMethod?: string; extra?: string[]; callId?: string } = {}): string {
  const method = opts.method ?? 'OPTIONS';
  return [
    `${method} sip:vm@127.0.0.1 SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:vm@example.com>', `Call-ID: ${opts.callId ?? 'c1@test'}`, `CSeq: 1 ${opts.cseqMethod ?? method}`, ...(opts.extra ?? []),
    'Content-Length: 0', '', '',
  ].join('\r\n');
}

function nextMessage(t: SipTransport): Promise<[SipMessage, Peer]> {
  return once(t, 'message') as Promise<[SipMessage, Peer]>;
}

async function udpClient(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

async function receiveUdp(s: dgram.Socket): Promise<string> {
  const [buf] = (await once(s, 'message')) as [Buffer];
  return buf.toString();
}

/** Collects a TCP client's received bytes; `until` waits for a predicate on all bytes so far. */
function tcpCollector(sock: net.Socket): { until(p: (s: string) => boolean): Promise<string>; closed: Promise<void> } {
  let data = '';
  const waiters: Array<() => void> = [];
  sock.on('data', (c: Buffer) => {
    data += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    until(p) {
      return new Promise((resolve) => {
        const check = (): void => (p(data) ? resolve(data) : void waiters.push(check));
        check();
      });
    },
    closed: once(sock, 'close').then(() => undefined),
  };
}

let transport: SipTransport;
const sockets: Array<dgram.Socket | net.Socket | net.Server> = [];

beforeEach(async () => {
  transport = new SipTransport({ host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'], logger });
  await transport.start();
});

afterEach(async () => {
  await transport.stop();
  for (const s of sockets.splice(0)) {
    if (s instanceof net.Server) s.close();
    else if (s instanceof net.Socket) s.destroy();
    else s.close();
  }
});

describe('SipTransport over UDP', () => {
  test('binds an ephemeral port shared by UDP and TCP; validates options', () => {
    expect(transport.port).toBeGreaterThan(0);
    expect(transport.viaSentBy('UDP')).toBe(`127.0.0.1:${transport.port}`);
    expect(transport.address).toBe('127.0.0.1');
    expect(() => new SipTransport({ host: '127.0.0.1', port: 70000, transports: [], logger })).toThrow(/port.*transports|transports.*port/s);
  });

  test('start() rejects with a precise error when the port is taken', async () => {
    const both = new SipTransport({ host: '127.0.0.1', port: transport.port, transports: ['udp', 'tcp'], logger });
    await expect(both.start()).rejects.toThrow(new RegExp(`cannot bind SIP transport on 127\\.0\\.0\\.1:${transport.port}: .*EADDRINUSE`));
    const tcpOnly = new SipTransport({ host: '127.0.0.1', port: transport.port, transports: ['tcp'], logger });
    await expect(tcpOnly.start()).rejects.toThrow(/EADDRINUSE/);
  });

  test('stamps received and rport on the top Via and routes the response to received:rport', async () => {
    const client = await udpClient();
    sockets.push(client);
    const arrived = nextMessage(transport);
    client.send(request('SIP/2.0/UDP client.invalid:5099;rport;branch=z9hG4bKu1\r\nVia: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKold'), transport.port, '127.0.0.1');
    const [msg, source] = await arrived;
    const req = msg as SipRequest;
    const clientPort = client.address().port;
    expect(source).toEqual({ transport: 'UDP', address: '127.0.0.1', port: clientPort });
    expect(req.headers.getAll('Via')).toEqual([
      `SIP/2.0/UDP client.invalid:5099;rport=${clientPort};branch=z9hG4bKu1;received=127.0.0.1`,
      'SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKold',
    ]);
    const reply = receiveUdp(client);
    transport.sendResponse(createResponse(req, 200, 'OK', 'tt'), source);
    const res = parseMessage(Buffer.from(await reply));
    expect(res).toMatchObject({ kind: 'response', status: 200 });
    expect(parseVia(res.headers.get('Via')!)).toMatchObject({ rport: clientPort, received: '127.0.0.1' });
  });

  test('without rport the response goes to the sent-by port, not the source port', async () => {
    const sender = await udpClient();
    const listener = await udpClient();
    sockets.push(sender, listener);
    const arrived = nextMessage(transport);
    sender.send(request(`SIP/2.0/UDP 127.0.0.1:${listener.address().port};branch=z9hG4bKu2`), transport.port, '127.0.0.1');
    const [msg, source] = await arrived;
    expect(msg.headers.get('Via')).toBe(`SIP/2.0/UDP 127.0.0.1:${listener.address().port};branch=z9hG4bKu2`);
    const reply = receiveUdp(listener);
    transport.sendResponse(createResponse(msg as SipRequest, 486), source);
    expect(await reply).toMatch(/^SIP\/2\.0 486 Busy Here\r\n/);
  });

  test('CRLF ping gets a CRLF pong; a lone CRLF is ignored', async () => {
    const client = await udpClient();
    sockets.push(client);
    const pong = receiveUdp(client);
    client.send('\r\n', transport.port, '127.0.0.1');
    client.send('\r\n\r\n', transport.port, '127.0.0.1');
    expect(await pong).toBe('\r\n');
  });

  test('malformed request is answered 400 with the reason and a Warning', async () => {
    const client = await udpClient();
    sockets.push(client);
    let emitted = 0;
    transport.on('message', () => emitted++);
    const reply = receiveUdp(client);
    client.send(request('SIP/2.0/UDP 127.0.0.1:1;rport;branch=z9hG4bKm', { method: 'INVITE', cseqMethod: 'BYE' }), transport.port, '127.0.0.1');
    const res = parseMessage(Buffer.from(await reply));
    expect(res.kind).toBe('response');
    if (res.kind !== 'response') return;
    expect(res.status).toBe(400);
    expect(res.reason).toMatch(/CSeq.*method/);
    expect(res.headers.get('Warning')).toMatch(new RegExp(`^399 127\\.0\\.0\\.1:${transport.port} ".*CSeq.*"$`));
    expect(res.headers.get('To')).toMatch(/;tag=/);
    expect(emitted).toBe(0);
  });

  test('bad version gets 505, garbage and malformed ACK are dropped without crashing', async () => {
    const client = await udpClient();
    sockets.push(client);
    const got: string[] = [];
    client.on('message', (b: Buffer) => got.push(b.toString()));
    client.send(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 10, 13]), transport.port, '127.0.0.1');
    client.send('NOT SIP AT ALL\r\n\r\n', transport.port, '127.0.0.1');
    client.send(request('SIP/2.0/UDP 127.0.0.1:1;rport;branch=z9hG4bKa', { method: 'ACK', cseqMethod: 'INVITE' }), transport.port, '127.0.0.1');
    client.send(request('SIP/2.0/UDP 127.0.0.1:1;rport;branch=z9hG4bKv').replace('SIP/2.0\r\n', 'SIP/3.0\r\n'), transport.port, '127.0.0.1');
    // Then a good request still gets through.
    const arrived = nextMessage(transport);
    client.send(request('SIP/2.0/UDP 127.0.0.1:1;rport;branch=z9hG4bKok'), transport.port, '127.0.0.1');
    const [msg] = await arrived;
    expect(msg.headers.get('Via')).toContain('branch=z9hG4bKok');
    // Datagrams are handled in order: once the 505 is back, a reply to the garbage before it would be too.
    await until('the 505', () => got.length >= 1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^SIP\/2\.0 505 Version Not Supported\r\n/);
  });

  test('send() delivers a request to a UDP peer', async () => {
    const peer = await udpClient();
    sockets.push(peer);
    const h = new Headers([['Via', `SIP/2.0/UDP ${transport.viaSentBy('UDP')};branch=z9hG4bKs`], ['Call-ID', 'out@x']]);
    const got = receiveUdp(peer);
    transport.send(createRequest('BYE', 'sip:x@127.0.0.1', h), { transport: 'UDP', address: '127.0.0.1', port: peer.address().port });
    expect(await got).toMatch(/^BYE sip:x@127\.0\.0\.1 SIP\/2\.0\r\n[\s\S]*Call-ID: out@x/);
  });
});

describe('SipTransport over TCP', () => {
  async function connect(): Promise<net.Socket> {
    const sock = net.connect(transport.port, '127.0.0.1');
    sockets.push(sock);
    await once(sock, 'connect');
    return sock;
  }

  test('request in two chunks, response on the same connection despite an unreachable sent-by', async () => {
    const sock = await connect();
    const rx = tcpCollector(sock);
    const arrived = nextMessage(transport);
    const text = request('SIP/2.0/TCP client.invalid:1;branch=z9hG4bKt1');
    sock.write(text.slice(0, 30));
    await new Promise((r) => setTimeout(r, 20)); // the pause under test: the two halves arrive in separate reads
    sock.write(text.slice(30));
    const [msg, source] = await arrived;
    expect(source).toMatchObject({ transport: 'TCP', address: '127.0.0.1', port: sock.localPort });
    expect(source.connectionId).toEqual(expect.any(Number));
    expect(msg.headers.get('Via')).toBe('SIP/2.0/TCP client.invalid:1;branch=z9hG4bKt1;received=127.0.0.1');
    transport.sendResponse(createResponse(msg as SipRequest, 200), source);
    const out = await rx.until((s) => s.includes('\r\n\r\n'));
    expect(out).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  test('CRLF ping is answered with CRLF', async () => {
    const sock = await connect();
    const rx = tcpCollector(sock);
    sock.write('\r\n\r\n');
    expect(await rx.until((s) => s.length >= 2)).toBe('\r\n');
  });

  test('missing Content-Length: 400 then the connection is closed', async () => {
    const sock = await connect();
    const rx = tcpCollector(sock);
    sock.write(request('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKt2').replace('Content-Length: 0\r\n', ''));
    await rx.closed;
    const out = await rx.until(() => true);
    expect(out).toMatch(/^SIP\/2\.0 400 Missing Content-Length\r\n/);
    expect(out).toMatch(/Warning: 399 [^\r]* "Missing Content-Length"/);
  });

  test('a whole message followed in the same read by unframeable bytes is answered before the close', async () => {
    const sock = await connect();
    const rx = tcpCollector(sock);
    transport.on('message', (msg, source) => {
      if (msg.kind === 'request') transport.sendResponse(createResponse(msg, 200), source);
    });
    const valid = request('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKt9');
    const unframeable = request('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKt10').replace('Content-Length: 0\r\n', '');
    sock.write(valid + unframeable);
    await rx.closed;
    const out = await rx.until(() => true);
    expect(out).toMatch(/^SIP\/2\.0 200 OK\r\n[^]*branch=z9hG4bKt9/);
    expect(out).toMatch(/\r\n\r\nSIP\/2\.0 400 Missing Content-Length\r\n[^]*branch=z9hG4bKt10/);
  });

  test('send() opens one outbound connection, queues while connecting and reuses it', async () => {
    const server = net.createServer();
    sockets.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    let accepted = 0;
    let data = '';
    const twoMessages = new Promise<void>((resolve) => {
      server.on('connection', (s) => {
        accepted++;
        sockets.push(s);
        s.on('data', (c: Buffer) => {
          data += c.toString();
          if ((data.match(/^OPTIONS /gm) ?? []).length === 2) resolve();
        });
      });
    });
    const dest: Peer = { transport: 'TCP', address: '127.0.0.1', port };
    const mk = (id: string): SipRequest => createRequest('OPTIONS', 'sip:p@127.0.0.1', new Headers([['Call-ID', id]]));
    transport.send(mk('one@x'), dest);
    transport.send(mk('two@x'), dest);
    await twoMessages;
    expect(accepted).toBe(1);
    expect(transport.connectionCount).toBe(1);
  });

  test('connection failure is reported as transportError', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const failed = once(transport, 'transportError') as Promise<[Peer, Error]>;
    transport.send(createRequest('OPTIONS', 'sip:p@127.0.0.1'), { transport: 'TCP', address: '127.0.0.1', port });
    const [dest, err] = await failed;
    expect(dest).toMatchObject({ address: '127.0.0.1', port });
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  test('idle connections are closed and stop() closes the rest', async () => {
    await transport.stop();
    transport = new SipTransport({ host: '127.0.0.1', port: 0, transports: ['tcp'], tcpIdleTimeoutMs: 1000, logger });
    await transport.start();
    const idle = await connect();
    const t0 = Date.now();
    await once(idle, 'close');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const live = await connect();
    await until('the server side of the connection', () => transport.connectionCount >= 1);
    expect(transport.connectionCount).toBe(1);
    const closed = once(live, 'close');
    await transport.stop();
    await closed;
    expect(transport.connectionCount).toBe(0);
  });
});
