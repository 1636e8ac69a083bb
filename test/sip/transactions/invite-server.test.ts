import { describe, expect, test } from '@jest/globals';
import { createResponse } from '../../../src/sip/response.js';
import { InviteServerTransaction } from '../../../src/sip/transactions/invite-server.js';
import { TransactionStateError } from '../../../src/sip/transactions/machine.js';
import { makeRequest, TCP_PEER, UDP_PEER, Wire } from './helpers.js';

function setup(reliable = false) {
  const wire = new Wire();
  const invite = makeRequest('INVITE');
  const events = { timeouts: 0, terminated: 0, transportErrors: [] as unknown[] };
  const tx = new InviteServerTransaction(invite, reliable ? TCP_PEER : UDP_PEER, wire.serverContext(reliable), {
    onTimeout: () => void events.timeouts++,
    onTerminated: () => void events.terminated++,
    onTransportError: (e) => void events.transportErrors.push(e),
  });
  return { wire, invite, tx, events };
}

describe('InviteServerTransaction', () => {
  test('sends 100 Trying at once and starts in Proceeding', () => {
    const { wire, tx } = setup();
    expect(tx.state).toBe('Proceeding');
    expect(wire.timesOf(100)).toEqual([0]);
    expect(wire.sent[0]!.peer).toBe(UDP_PEER);
    expect(wire.clock.pending).toBe(0);
  });

  test('non-2xx over UDP: Timer G retransmits at 500, 1500, 3500, 7500 … capped at T2; Timer H fires once at 32 s', () => {
    const { wire, tx, invite, events } = setup();
    tx.respond(createResponse(invite, 486, undefined, 'uas1'));
    expect(tx.state).toBe('Completed');
    wire.clock.advance(31_999);
    expect(wire.timesOf(486)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(events.timeouts).toBe(0);
    wire.clock.advance(1);
    expect(events.timeouts).toBe(1);
    expect(events.terminated).toBe(1);
    expect(tx.state).toBe('Terminated');
    expect(wire.clock.pending).toBe(0);
    wire.clock.advance(120_000);
    expect(wire.timesOf(486)).toHaveLength(11);
    expect(events.timeouts).toBe(1);
  });

  test('ACK in Completed stops retransmissions; Timer I (T4) then terminates', () => {
    const { wire, tx, invite, events } = setup();
    tx.respond(createResponse(invite, 404, undefined, 'uas1'));
    wire.clock.advance(2000);
    expect(tx.receiveRequest(makeRequest('ACK', { toTag: 'uas1' }), UDP_PEER)).toBe(true);
    expect(tx.state).toBe('Confirmed');
    // ACK retransmissions are absorbed in Confirmed.
    expect(tx.receiveRequest(makeRequest('ACK', { toTag: 'uas1' }), UDP_PEER)).toBe(true);
    wire.clock.advance(4999);
    expect(tx.state).toBe('Confirmed');
    wire.clock.advance(1);
    expect(tx.state).toBe('Terminated');
    expect(wire.timesOf(404)).toEqual([0, 500, 1500]);
    expect(events).toEqual({ timeouts: 0, terminated: 1, transportErrors: [] });
    expect(wire.clock.pending).toBe(0);
  });

  test('over TCP: no retransmission, Timer H still runs, ACK terminates at once (Timer I = 0)', () => {
    const { wire, tx, invite, events } = setup(true);
    tx.respond(createResponse(invite, 480, undefined, 'uas1'));
    wire.clock.advance(20_000);
    expect(wire.timesOf(480)).toEqual([0]);
    tx.receiveRequest(makeRequest('ACK', { toTag: 'uas1', transport: 'TCP' }), TCP_PEER);
    expect(tx.state).toBe('Terminated');
    expect(events.terminated).toBe(1);
    expect(wire.clock.pending).toBe(0);

    const other = setup(true);
    other.tx.respond(createResponse(other.invite, 480, undefined, 'uas1'));
    other.wire.clock.advance(32_000);
    expect(other.wire.timesOf(480)).toEqual([0]);
    expect(other.events.timeouts).toBe(1);
  });

  test('retransmitted INVITE: last provisional in Proceeding, final in Completed, nothing in Confirmed', () => {
    const { wire, tx, invite } = setup();
    tx.receiveRequest(invite, UDP_PEER);
    expect(wire.timesOf(100)).toEqual([0, 0]);
    wire.clock.advance(100);
    tx.respond(createResponse(invite, 180, undefined, 'uas1'));
    wire.clock.advance(100);
    tx.receiveRequest(invite, UDP_PEER);
    expect(wire.timesOf(180)).toEqual([100, 200]);
    expect(wire.timesOf(100)).toHaveLength(2);
    tx.respond(createResponse(invite, 603, undefined, 'uas1'));
    wire.clock.advance(100);
    tx.receiveRequest(invite, UDP_PEER);
    expect(wire.timesOf(603)).toEqual([200, 300]);
    tx.receiveRequest(makeRequest('ACK', { toTag: 'uas1' }), UDP_PEER);
    const before = wire.sent.length;
    tx.receiveRequest(invite, UDP_PEER);
    expect(wire.sent.length).toBe(before);
  });

  test('2xx enters Accepted: INVITE retransmissions absorbed, TU 2xx retransmissions pass, ACK goes up, Timer L at 32 s', () => {
    const { wire, tx, invite, events } = setup();
    const ok = createResponse(invite, 200, undefined, 'uas1');
    tx.respond(ok);
    expect(tx.state).toBe('Accepted');
    expect(tx.finalResponse).toBe(ok);
    wire.clock.advance(500);
    expect(tx.receiveRequest(invite, UDP_PEER)).toBe(true);
    tx.respond(ok);
    wire.clock.advance(1000);
    tx.respond(ok);
    expect(wire.timesOf(200)).toEqual([0, 500, 1500]);
    expect(tx.receiveRequest(makeRequest('ACK', { toTag: 'uas1', branch: 'z9hG4bK-ack' }), UDP_PEER)).toBe(false);
    expect(tx.state).toBe('Accepted');
    wire.clock.advance(32_000 - 1500 - 1);
    expect(tx.state).toBe('Accepted');
    wire.clock.advance(1);
    expect(tx.state).toBe('Terminated');
    expect(events).toEqual({ timeouts: 0, terminated: 1, transportErrors: [] });
    expect(wire.timesOf(200)).toHaveLength(3);
    expect(wire.clock.pending).toBe(0);
  });

  test('illegal moves throw TransactionStateError naming from and to', () => {
    const { tx, invite } = setup();
    tx.respond(createResponse(invite, 486, undefined, 'uas1'));
    const err = (() => {
      try {
        tx.respond(createResponse(invite, 200, undefined, 'uas1'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TransactionStateError);
    expect((err as TransactionStateError).from).toBe('Completed');
    expect((err as TransactionStateError).to).toBe('Accepted');
    expect(() => tx.respond(createResponse(invite, 180))).toThrow(/Completed → Proceeding/);

    const accepted = setup();
    accepted.tx.respond(createResponse(accepted.invite, 200, undefined, 'uas1'));
    expect(() => accepted.tx.respond(createResponse(accepted.invite, 500))).toThrow(/Accepted → Completed/);
    accepted.wire.clock.advance(32_000);
    expect(() => accepted.tx.respond(createResponse(accepted.invite, 200))).toThrow(/Terminated → Accepted/);
    expect(() => setup().tx.respond({ ...createResponse(invite, 200), status: 99 })).toThrow(RangeError);
    expect(() => new InviteServerTransaction(makeRequest('BYE'), UDP_PEER, accepted.wire.serverContext())).toThrow(/needs an INVITE/);
  });

  test('transport error terminates, informs the TU and leaves no timer', () => {
    const { wire, tx, invite, events } = setup();
    tx.respond(createResponse(invite, 486, undefined, 'uas1'));
    const boom = new Error('ECONNRESET');
    tx.transportError(boom);
    expect(tx.state).toBe('Terminated');
    expect(events).toEqual({ timeouts: 0, terminated: 1, transportErrors: [boom] });
    expect(wire.clock.pending).toBe(0);
    tx.transportError(boom);
    expect(events.terminated).toBe(1);
  });

  test('a throwing transport is a transport error, also from a Timer G retransmission', () => {
    const wire = new Wire();
    let failing = false;
    const invite = makeRequest('INVITE');
    const seen: string[] = [];
    const tx = new InviteServerTransaction(invite, UDP_PEER, {
      ...wire.serverContext(),
      send: (res, p) => {
        if (failing) throw new Error('EHOSTUNREACH');
        wire.send(res, p);
      },
    });
    tx.subscribe({ onTransportError: (e) => seen.push((e as Error).message), onTerminated: () => seen.push('terminated') });
    tx.respond(createResponse(invite, 486, undefined, 'uas1'));
    failing = true;
    wire.clock.advance(500);
    expect(seen).toEqual(['EHOSTUNREACH', 'terminated']);
    expect(tx.state).toBe('Terminated');
    expect(wire.clock.pending).toBe(0);
  });
});
