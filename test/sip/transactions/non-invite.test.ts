import { describe, expect, test } from '@jest/globals';
import type { SipResponse } from '../../../src/sip/message.js';
import { createResponse } from '../../../src/sip/response.js';
import { NonInviteClientTransaction } from '../../../src/sip/transactions/non-invite-client.js';
import { NonInviteServerTransaction } from '../../../src/sip/transactions/non-invite-server.js';
import { makeRequest, TCP_PEER, UDP_PEER, Wire } from './helpers.js';

describe('NonInviteServerTransaction', () => {
  function setup(reliable = false) {
    const wire = new Wire();
    const bye = makeRequest('BYE', { toTag: 'uas1', seq: 2 });
    let terminated = 0;
    const tx = new NonInviteServerTransaction(bye, reliable ? TCP_PEER : UDP_PEER, wire.serverContext(reliable), {
      onTerminated: () => void terminated++,
    });
    return { wire, bye, tx, terminated: () => terminated };
  }

  test('absorbs retransmissions in Trying, sends nothing on creation', () => {
    const { wire, bye, tx } = setup();
    expect(tx.state).toBe('Trying');
    tx.receiveRequest(bye, UDP_PEER);
    tx.receiveRequest(bye, UDP_PEER);
    expect(wire.sent).toHaveLength(0);
    expect(wire.clock.pending).toBe(0);
  });

  test('answers retransmissions with the last provisional, then with the final; Timer J at 64*T1 over UDP', () => {
    const { wire, bye, tx, terminated } = setup();
    tx.respond(createResponse(bye, 183));
    expect(tx.state).toBe('Proceeding');
    wire.clock.advance(100);
    tx.receiveRequest(bye, UDP_PEER);
    expect(wire.timesOf(183)).toEqual([0, 100]);
    tx.respond(createResponse(bye, 200));
    expect(tx.state).toBe('Completed');
    wire.clock.advance(1000);
    tx.receiveRequest(bye, UDP_PEER);
    // §17.2.2: other final responses from the TU are discarded in Completed.
    tx.respond(createResponse(bye, 500));
    expect(wire.timesOf(200)).toEqual([100, 1100]);
    expect(wire.timesOf(500)).toEqual([]);
    wire.clock.advance(32_000 - 1000 - 1);
    expect(tx.state).toBe('Completed');
    wire.clock.advance(1);
    expect(tx.state).toBe('Terminated');
    expect(terminated()).toBe(1);
    expect(wire.clock.pending).toBe(0);
    expect(() => tx.respond(createResponse(bye, 100))).toThrow(/Terminated → Proceeding/);
    expect(() => tx.respond(createResponse(bye, 200))).toThrow(/Terminated → Completed/);
  });

  test('over TCP Timer J is zero: terminated as soon as the final response is sent', () => {
    const { wire, bye, tx, terminated } = setup(true);
    tx.respond(createResponse(bye, 200));
    expect(tx.state).toBe('Terminated');
    expect(terminated()).toBe(1);
    expect(wire.timesOf(200)).toEqual([0]);
    expect(wire.clock.pending).toBe(0);
  });

  test('a provisional after the final is an illegal transition', () => {
    const { bye, tx } = setup();
    tx.respond(createResponse(bye, 200));
    expect(() => tx.respond(createResponse(bye, 180))).toThrow(/Completed → Proceeding/);
  });

  test('refuses INVITE and ACK', () => {
    const wire = new Wire();
    expect(() => new NonInviteServerTransaction(makeRequest('INVITE'), UDP_PEER, wire.serverContext())).toThrow(TypeError);
    expect(() => new NonInviteServerTransaction(makeRequest('ACK'), UDP_PEER, wire.serverContext())).toThrow(TypeError);
  });

  test('transport error informs and terminates', () => {
    const { wire, bye, tx, terminated } = setup();
    const errors: unknown[] = [];
    tx.subscribe({ onTransportError: (e) => errors.push(e) });
    tx.respond(createResponse(bye, 200));
    tx.transportError('gone');
    expect(errors).toEqual(['gone']);
    expect(terminated()).toBe(1);
    expect(wire.clock.pending).toBe(0);
  });
});

describe('NonInviteClientTransaction', () => {
  function setup(reliable = false) {
    const wire = new Wire();
    const notify = makeRequest('NOTIFY', { branch: 'z9hG4bK-n1', toTag: 'sub1', seq: 5 });
    const log = { responses: [] as SipResponse[], timeouts: 0, terminated: 0, transportErrors: 0 };
    const tx = new NonInviteClientTransaction(notify, reliable ? TCP_PEER : UDP_PEER, wire.clientContext(reliable), {
      onResponse: (r) => void log.responses.push(r),
      onTimeout: () => void log.timeouts++,
      onTerminated: () => void log.terminated++,
    });
    return { wire, notify, tx, log };
  }

  test('Timer E: 500, 1000, 2000, 4000, 4000 … intervals; Timer F times out once at 64*T1', () => {
    const { wire, tx, log } = setup();
    expect(wire.requestTimes('NOTIFY')).toEqual([0]);
    wire.clock.advance(31_999);
    expect(wire.requestTimes('NOTIFY')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(log.timeouts).toBe(0);
    wire.clock.advance(1);
    expect(log).toEqual({ responses: [], timeouts: 1, terminated: 1, transportErrors: 0 });
    expect(tx.state).toBe('Terminated');
    expect(wire.clock.pending).toBe(0);
    wire.clock.advance(60_000);
    expect(wire.requestTimes('NOTIFY')).toHaveLength(11);
  });

  test('in Proceeding Timer E is reset to T2; final response → Completed, Timer K (T4) terminates', () => {
    const { wire, notify, tx, log } = setup();
    wire.clock.advance(600); // sends at 0 and 500; next E due at 1500
    tx.receiveResponse(createResponse(notify, 100));
    expect(tx.state).toBe('Proceeding');
    wire.clock.advance(10_000 - 600);
    // 1500 (the E already armed), then every T2: 5500, 9500
    expect(wire.requestTimes('NOTIFY')).toEqual([0, 500, 1500, 5500, 9500]);
    const ok = createResponse(notify, 200);
    tx.receiveResponse(ok);
    tx.receiveResponse(ok); // retransmission absorbed in Completed
    expect(tx.state).toBe('Completed');
    expect(log.responses.map((r) => r.status)).toEqual([100, 200]);
    wire.clock.advance(4999);
    expect(tx.state).toBe('Completed');
    wire.clock.advance(1);
    expect(tx.state).toBe('Terminated');
    expect(log.timeouts).toBe(0);
    expect(log.terminated).toBe(1);
    expect(wire.requestTimes('NOTIFY')).toHaveLength(5);
    expect(wire.clock.pending).toBe(0);
  });

  test('over TCP: no retransmission, Timer F still applies, Timer K is zero', () => {
    const a = setup(true);
    a.wire.clock.advance(32_000);
    expect(a.wire.requestTimes('NOTIFY')).toEqual([0]);
    expect(a.log.timeouts).toBe(1);

    const b = setup(true);
    b.wire.clock.advance(700);
    b.tx.receiveResponse(createResponse(b.notify, 481));
    expect(b.tx.state).toBe('Terminated');
    expect(b.log.responses.map((r) => r.status)).toEqual([481]);
    expect(b.log.terminated).toBe(1);
    expect(b.wire.clock.pending).toBe(0);
  });

  test('a transport failure on send terminates and falls back to onTimeout without onTransportError', () => {
    const wire = new Wire();
    let timeouts = 0;
    const tx = new NonInviteClientTransaction(makeRequest('BYE'), UDP_PEER, { ...wire.clientContext(), send: () => { throw new Error('EPERM'); } }, {
      onResponse: () => undefined,
      onTimeout: () => void timeouts++,
    });
    expect(tx.state).toBe('Terminated');
    expect(timeouts).toBe(1);
    expect(wire.clock.pending).toBe(0);
  });

  test('refuses INVITE', () => {
    const wire = new Wire();
    expect(() => new NonInviteClientTransaction(makeRequest('INVITE'), UDP_PEER, wire.clientContext(), { onResponse: () => undefined, onTimeout: () => undefined })).toThrow(TypeError);
  });
});
