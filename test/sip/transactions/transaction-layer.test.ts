import { describe, expect, test } from '@jest/globals';
import { once } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import { systemClock } from '../../../src/shared/clock.js';
import type { Peer } from '../../../src/sip/message.js';
import { SipTransport } from '../../../src/sip/transport/transport.js';
import type { SipResponse } from '../../../src/sip/message.js';
import { createResponse } from '../../../src/sip/response.js';
import { InviteServerTransaction } from '../../../src/sip/transactions/invite-server.js';
import { TransactionKeyError } from '../../../src/sip/transactions/keys.js';
import { NonInviteServerTransaction } from '../../../src/sip/transactions/non-invite-server.js';
import { TimerConfigError } from '../../../src/sip/transactions/timers.js';
import { newBranch, TransactionLayer, type ReceiveRequestResult, type ServerTransaction } from '../../../src/sip/transactions/transaction-layer.js';
import { makeRequest, TCP_PEER, UDP_PEER, Wire } from './helpers.js';

function setup(timers?: { T1?: number }) {
  const wire = new Wire();
  const layer = new TransactionLayer({ clock: wire.clock, timers, send: wire.send, sendResponse: wire.send });
  return { wire, layer };
}

function newTx(r: ReceiveRequestResult): ServerTransaction {
  if (r.kind !== 'new') throw new Error(`expected a new transaction, got ${r.kind}`);
  return r.tx;
}

const LEGACY_VIA = 'SIP/2.0/UDP old.example.com:5060';

describe('TransactionLayer server side', () => {
  test('a new INVITE creates a transaction; its retransmission is answered by it', () => {
    const { wire, layer } = setup();
    const invite = makeRequest('INVITE', { branch: 'z9hG4bK-a' });
    const tx = newTx(layer.receiveRequest(invite, UDP_PEER));
    expect(tx).toBeInstanceOf(InviteServerTransaction);
    expect(layer.size).toBe(1);
    expect(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-a' }), UDP_PEER)).toEqual({ kind: 'handled' });
    expect(wire.timesOf(100)).toEqual([0, 0]);
    expect(wire.sent[0]!.peer).toBe(UDP_PEER);
  });

  test('same branch with another method or another sent-by is another transaction', () => {
    const { layer } = setup();
    const inv = newTx(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-a' }), UDP_PEER));
    const opt = newTx(layer.receiveRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-a', seq: 2 }), UDP_PEER));
    const other = newTx(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-a', sentBy: 'elsewhere.example.com' }), UDP_PEER));
    expect(opt).toBeInstanceOf(NonInviteServerTransaction);
    expect(new Set([inv, opt, other]).size).toBe(3);
    expect(layer.size).toBe(3);
  });

  test('CANCEL is its own transaction and finds the INVITE it cancels', () => {
    const { layer } = setup();
    const inv = newTx(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-c' }), UDP_PEER));
    const cancel = makeRequest('CANCEL', { branch: 'z9hG4bK-c' });
    const ctx = newTx(layer.receiveRequest(cancel, UDP_PEER));
    expect(ctx).toBeInstanceOf(NonInviteServerTransaction);
    expect(ctx).not.toBe(inv);
    expect(layer.findInviteTransactionForCancel(cancel)).toBe(inv);
    expect(layer.findInviteTransactionForCancel(makeRequest('CANCEL', { branch: 'z9hG4bK-zz' }))).toBeUndefined();
    expect(layer.findInviteTransactionForCancel(makeRequest('CANCEL', { branch: 'z9hG4bK-c', sentBy: 'x.example.com' }))).toBeUndefined();
    expect(layer.findInviteTransactionForCancel(makeRequest('CANCEL', { via: 'garbage' }))).toBeUndefined();
  });

  test('ACK of a non-2xx is absorbed by its INVITE transaction; ACK of a 2xx goes to the dialog layer', () => {
    const { layer } = setup();
    const rejected = makeRequest('INVITE', { branch: 'z9hG4bK-r', callId: 'r' });
    const txR = newTx(layer.receiveRequest(rejected, UDP_PEER)) as InviteServerTransaction;
    txR.respond(createResponse(rejected, 486, undefined, 't1'));
    expect(layer.receiveRequest(makeRequest('ACK', { branch: 'z9hG4bK-r', callId: 'r', toTag: 't1' }), UDP_PEER)).toEqual({ kind: 'handled' });
    expect(txR.state).toBe('Confirmed');

    const accepted = makeRequest('INVITE', { branch: 'z9hG4bK-ok', callId: 'ok' });
    const txA = newTx(layer.receiveRequest(accepted, UDP_PEER)) as InviteServerTransaction;
    txA.respond(createResponse(accepted, 200, undefined, 't2'));
    // RFC 3261 UAs send the 2xx ACK with a new branch: it matches nothing.
    expect(layer.receiveRequest(makeRequest('ACK', { branch: 'z9hG4bK-new', callId: 'ok', toTag: 't2' }), UDP_PEER)).toEqual({ kind: 'ack-2xx' });
    // Even with the INVITE's branch, an ACK reaching the Accepted state is the dialog's.
    expect(layer.receiveRequest(makeRequest('ACK', { branch: 'z9hG4bK-ok', callId: 'ok', toTag: 't2' }), UDP_PEER)).toEqual({ kind: 'ack-2xx' });
    expect(txA.state).toBe('Accepted');
  });

  test('RFC 2543 fallback matches on Request-URI, tags, Call-ID, CSeq and top Via', () => {
    const { wire, layer } = setup();
    const invite = makeRequest('INVITE', { via: LEGACY_VIA, callId: 'old' });
    const tx = newTx(layer.receiveRequest(invite, UDP_PEER)) as InviteServerTransaction;
    expect(layer.receiveRequest(makeRequest('INVITE', { via: `${LEGACY_VIA}  `, callId: 'old' }), UDP_PEER)).toEqual({ kind: 'handled' });
    expect(wire.timesOf(100)).toHaveLength(2);
    // Another CSeq, Call-ID, From tag or Request-URI is another request.
    expect(layer.receiveRequest(makeRequest('INVITE', { via: LEGACY_VIA, callId: 'old', seq: 2 }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(makeRequest('INVITE', { via: LEGACY_VIA, callId: 'old2' }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(makeRequest('INVITE', { via: LEGACY_VIA, callId: 'old', fromTag: 'f9' }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(makeRequest('INVITE', { via: LEGACY_VIA, callId: 'old', uri: 'sip:other@example.net' }), UDP_PEER).kind).toBe('new');
    // CANCEL found by the same rules (method taken as INVITE).
    expect(layer.findInviteTransactionForCancel(makeRequest('CANCEL', { via: LEGACY_VIA, callId: 'old' }))).toBe(tx);

    tx.respond(createResponse(invite, 404, undefined, 'legacy-tag'));
    // An ACK whose To tag is not our response's does not match.
    expect(layer.receiveRequest(makeRequest('ACK', { via: LEGACY_VIA, callId: 'old', toTag: 'wrong' }), UDP_PEER)).toEqual({ kind: 'ack-2xx' });
    expect(tx.state).toBe('Completed');
    expect(layer.receiveRequest(makeRequest('ACK', { via: LEGACY_VIA, callId: 'old', toTag: 'legacy-tag' }), UDP_PEER)).toEqual({ kind: 'handled' });
    expect(tx.state).toBe('Confirmed');

    // Non-INVITE: To tag and CSeq method are part of the match.
    const bye = makeRequest('BYE', { via: LEGACY_VIA, callId: 'old', toTag: 'd1', seq: 3 });
    newTx(layer.receiveRequest(bye, UDP_PEER));
    expect(layer.receiveRequest(bye, UDP_PEER)).toEqual({ kind: 'handled' });
    expect(layer.receiveRequest(makeRequest('BYE', { via: LEGACY_VIA, callId: 'old', toTag: 'd2', seq: 3 }), UDP_PEER).kind).toBe('new');
  });

  test('a BYE retransmitted in the Completed state gets the same final response until Timer J (64*T1), then is new (§17.2.2)', () => {
    const { wire, layer } = setup();
    const T1 = layer.timers.T1;
    const bye = makeRequest('BYE', { branch: 'z9hG4bK-bye', callId: 'd', toTag: 'uas', seq: 2 });
    const tx = newTx(layer.receiveRequest(bye, UDP_PEER));
    const ok = createResponse(bye, 200, 'OK');
    tx.respond(ok);
    expect(tx.state).toBe('Completed');
    // "While in the "Completed" state, the server transaction MUST pass the final response to the transport layer for
    // retransmission whenever a retransmission of the request is received."
    wire.clock.advance(1_000);
    expect(layer.receiveRequest(makeRequest('BYE', { branch: 'z9hG4bK-bye', callId: 'd', toTag: 'uas', seq: 2 }), UDP_PEER)).toEqual({ kind: 'handled' });
    wire.clock.advance(64 * T1 - 1_001);
    expect(layer.receiveRequest(makeRequest('BYE', { branch: 'z9hG4bK-bye', callId: 'd', toTag: 'uas', seq: 2 }), UDP_PEER)).toEqual({ kind: 'handled' });
    expect(wire.timesOf(200)).toEqual([0, 1_000, 64 * T1 - 1]);
    expect(wire.sent.every((s) => s.msg === ok)).toBe(true);
    // §17.2.2: "The server transaction remains in this state until Timer J fires"; a copy after that is a new request.
    wire.clock.advance(1);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
    expect(layer.receiveRequest(makeRequest('BYE', { branch: 'z9hG4bK-bye', callId: 'd', toTag: 'uas', seq: 2 }), UDP_PEER).kind).toBe('new');
  });

  test('an RFC 2543 BYE (no magic cookie) retransmitted in the Completed state gets the same final response (§17.2.3)', () => {
    const { wire, layer } = setup();
    const bye = makeRequest('BYE', { via: LEGACY_VIA, callId: 'old-bye', toTag: 'uas', seq: 2 });
    const tx = newTx(layer.receiveRequest(bye, UDP_PEER));
    const ok = createResponse(bye, 200, 'OK');
    tx.respond(ok);
    wire.clock.advance(500);
    expect(layer.receiveRequest(makeRequest('BYE', { via: LEGACY_VIA, callId: 'old-bye', toTag: 'uas', seq: 2 }), UDP_PEER)).toEqual({ kind: 'handled' });
    expect(wire.timesOf(200)).toEqual([0, 500]);
    expect(wire.sent[1]!.msg).toBe(ok);
  });

  test('over TCP Timer J is zero: the Completed BYE transaction ends at once (§17.2.2, no retransmissions on a reliable transport)', () => {
    const { wire, layer } = setup();
    const bye = makeRequest('BYE', { branch: 'z9hG4bK-tcpbye', transport: 'TCP', toTag: 'uas', seq: 2 });
    const tx = newTx(layer.receiveRequest(bye, TCP_PEER));
    tx.respond(createResponse(bye, 200, 'OK'));
    wire.clock.advance(0);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  test('unusable Via or CSeq is reported, not thrown', () => {
    const { layer } = setup();
    const noVia = makeRequest('OPTIONS');
    noVia.headers.delete('Via');
    expect(layer.receiveRequest(noVia, UDP_PEER)).toEqual({ kind: 'invalid', reason: 'missing Via header' });
    expect(layer.receiveRequest(makeRequest('OPTIONS', { via: 'HTTP/1.1 foo' }), UDP_PEER).kind).toBe('invalid');
    expect(layer.receiveRequest(makeRequest('OPTIONS', { cseqMethod: 'INVITE' }), UDP_PEER)).toEqual({
      kind: 'invalid',
      reason: 'CSeq method INVITE differs from request method OPTIONS',
    });
    const badCseq = makeRequest('OPTIONS');
    badCseq.headers.set('CSeq', '99999999999 OPTIONS');
    expect(layer.receiveRequest(badCseq, UDP_PEER).kind).toBe('invalid');
    expect(layer.size).toBe(0);
  });

  test('terminated transactions leave the maps and the clock', () => {
    const { wire, layer } = setup();
    const inv = makeRequest('INVITE', { branch: 'z9hG4bK-1', callId: 'a' });
    (newTx(layer.receiveRequest(inv, UDP_PEER)) as InviteServerTransaction).respond(createResponse(inv, 486, undefined, 'x'));
    const inv2 = makeRequest('INVITE', { branch: 'z9hG4bK-2', callId: 'b' });
    (newTx(layer.receiveRequest(inv2, UDP_PEER)) as InviteServerTransaction).respond(createResponse(inv2, 200, undefined, 'y'));
    const opt = makeRequest('OPTIONS', { branch: 'z9hG4bK-3' });
    newTx(layer.receiveRequest(opt, UDP_PEER)).respond(createResponse(opt, 200));
    const tcpBye = makeRequest('BYE', { branch: 'z9hG4bK-4', transport: 'TCP' });
    newTx(layer.receiveRequest(tcpBye, TCP_PEER)).respond(createResponse(tcpBye, 200));
    expect(layer.size).toBe(3);
    wire.clock.advance(32_000);
    expect(layer.size).toBe(0);
    expect(wire.clock.pending).toBe(0);
    // After termination the same INVITE is a new request again.
    expect(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-1', callId: 'a' }), UDP_PEER).kind).toBe('new');
  });
});

describe('TransactionLayer client side', () => {
  test('sendRequest sends at once; responses match on branch and CSeq method', () => {
    const { wire, layer } = setup();
    const branch = newBranch();
    const bye = makeRequest('BYE', { branch, toTag: 'x', seq: 7 });
    const responses: SipResponse[] = [];
    const tx = layer.sendRequest(bye, UDP_PEER, { onResponse: (r) => void responses.push(r), onTimeout: () => undefined });
    expect(wire.requestTimes('BYE')).toEqual([0]);
    expect(layer.size).toBe(1);
    const wrongMethod = createResponse(bye, 200);
    wrongMethod.headers.set('CSeq', '7 NOTIFY');
    expect(layer.receiveResponse(wrongMethod, UDP_PEER)).toBe(false);
    expect(layer.receiveResponse(createResponse(makeRequest('BYE', { branch: newBranch(), seq: 7 }), 200), UDP_PEER)).toBe(false);
    expect(layer.receiveResponse(createResponse(bye, 200), UDP_PEER)).toBe(true);
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(tx.state).toBe('Completed');
    wire.clock.advance(5000);
    expect(layer.size).toBe(0);
    expect(layer.receiveResponse(createResponse(bye, 200), UDP_PEER)).toBe(false);
    expect(wire.clock.pending).toBe(0);
  });

  test('Timer F removes an unanswered client transaction', () => {
    const { wire, layer } = setup();
    let timeouts = 0;
    layer.sendRequest(makeRequest('NOTIFY', { branch: newBranch() }), UDP_PEER, { onResponse: () => undefined, onTimeout: () => void timeouts++ });
    wire.clock.advance(32_000);
    expect(timeouts).toBe(1);
    expect(layer.size).toBe(0);
    expect(wire.clock.pending).toBe(0);
  });

  test('sendRequest refuses branches without the cookie and duplicates', () => {
    const { layer } = setup();
    const events = { onResponse: () => undefined, onTimeout: () => undefined };
    expect(() => layer.sendRequest(makeRequest('BYE', { branch: 'abc' }), UDP_PEER, events)).toThrow(TransactionKeyError);
    const req = makeRequest('BYE', { branch: 'z9hG4bK-dup' });
    layer.sendRequest(req, UDP_PEER, events);
    expect(() => layer.sendRequest(req, UDP_PEER, events)).toThrow(/already exists/);
  });

  test('timer overrides are applied and validated', () => {
    const { wire, layer } = setup({ T1: 100 });
    expect(layer.timers).toEqual({ T1: 100, T2: 4000, T4: 5000 });
    layer.sendRequest(makeRequest('OPTIONS', { branch: newBranch() }), UDP_PEER, { onResponse: () => undefined, onTimeout: () => undefined });
    wire.clock.advance(1000);
    expect(wire.requestTimes('OPTIONS')).toEqual([0, 100, 300, 700]);
    expect(() => setup({ T1: -1 })).toThrow(TimerConfigError);
    expect(() => setup({ T1: 5000 })).toThrow(/T1 \(5000 ms\) exceeds T2/);
  });
});

describe('TransactionLayer transport errors (RFC 3261 §8.1.3.1, §17.1.4, §17.2.4)', () => {
  test('a transport error for a peer ends its client transactions at once, as a 503 would, and no other', () => {
    const { wire, layer } = setup();
    const failed: unknown[] = [];
    let timeouts = 0;
    const events = { onResponse: () => undefined, onTimeout: () => void timeouts++, onTransportError: (e: unknown) => void failed.push(e) };
    const other: typeof UDP_PEER = { ...UDP_PEER, port: 5070 };
    const toFailing = layer.sendRequest(makeRequest('BYE', { branch: newBranch(), toTag: 'x' }), UDP_PEER, events);
    const toOther = layer.sendRequest(makeRequest('BYE', { branch: newBranch(), toTag: 'y' }), other, events);
    const boom = new Error('ECONNREFUSED');
    expect(layer.transportError({ transport: 'UDP', address: '192.0.2.10', port: 5060 }, boom)).toBe(1);
    expect(failed).toEqual([boom]);
    expect(toFailing.state).toBe('Terminated');
    expect(toOther.state).not.toBe('Terminated');
    expect(layer.size).toBe(1);
    expect(timeouts).toBe(0);
    wire.clock.advance(500);
    expect(wire.requestTimes('BYE').length).toBe(3); // the other one keeps retransmitting; the failed one does not
  });

  test('a transport error for the source of a server transaction terminates it (no alternate address for a response)', () => {
    const { wire, layer } = setup();
    const tx = newTx(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-te' }), TCP_PEER));
    const errors: unknown[] = [];
    (tx as InviteServerTransaction).subscribe({ onTransportError: (e) => void errors.push(e) });
    // A failed connect has no connection id: the match is on transport, address and port.
    expect(layer.transportError({ transport: 'TCP', address: '192.0.2.10', port: 5060 }, new Error('reset'))).toBe(1);
    expect(tx.state).toBe('Terminated');
    expect(errors).toHaveLength(1);
    expect(layer.size).toBe(0);
    expect(wire.clock.pending).toBe(0);
  });

  test('a real TCP connect refusal from SipTransport reaches the client transaction', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const transport = new SipTransport({ host: '127.0.0.1', port: 0, transports: ['tcp'], logger: pino({ level: 'silent' }) });
    await transport.start();
    try {
      const layer = new TransactionLayer({
        clock: systemClock,
        send: (m, d) => transport.send(m, d),
        sendResponse: (r, s) => transport.sendResponse(r, s),
      });
      transport.on('transportError', (dest: Peer, err: Error) => layer.transportError(dest, err));
      const failure = new Promise<unknown>((resolve) => {
        layer.sendRequest(makeRequest('OPTIONS', { branch: newBranch(), transport: 'TCP' }), { transport: 'TCP', address: '127.0.0.1', port }, {
          onResponse: () => undefined,
          onTimeout: () => resolve('timeout'),
          onTransportError: (e) => resolve(e),
        });
      });
      expect(String(await failure)).toMatch(/ECONNREFUSED/);
      expect(layer.size).toBe(0);
    } finally {
      await transport.stop();
    }
  });
});
