import { ManualClock } from '../../../src/shared/clock.js';
import { createRequest, Headers, type Peer, type SipMessage, type SipRequest, type SipResponse } from '../../../src/sip/message.js';
import { DEFAULT_TIMERS } from '../../../src/sip/transactions/timers.js';

export const UDP_PEER: Peer = { transport: 'UDP', address: '192.0.2.10', port: 5060 };
export const TCP_PEER: Peer = { transport: 'TCP', address: '192.0.2.10', port: 5060, connectionId: 7 };

export interface RequestOptions {
  branch?: string;
  sentBy?: string;
  transport?: string;
  callId?: string;
  seq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  uri?: string;
  via?: string;
}

export function makeRequest(method: string, o: RequestOptions = {}): SipRequest {
  const h = new Headers();
  const branch = o.branch === undefined ? 'z9hG4bK-default' : o.branch;
  h.append('Via', o.via ?? `SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? 'client.example.com:5060'}${branch ? `;branch=${branch}` : ''};rport`);
  h.append('Max-Forwards', '70');
  h.append('From', `"Alice" <sip:alice@example.com>;tag=${o.fromTag ?? 'from1'}`);
  h.append('To', `<sip:vm@example.net>${o.toTag ? `;tag=${o.toTag}` : ''}`);
  h.append('Call-ID', o.callId ?? 'call-1@client');
  h.append('CSeq', `${o.seq ?? 1} ${o.cseqMethod ?? method}`);
  return createRequest(method, o.uri ?? 'sip:vm@example.net', h);
}

/** A fake transport recording what was sent, and when (ManualClock time). */
export class Wire {
  readonly clock = new ManualClock();
  readonly sent: Array<{ at: number; msg: SipMessage; peer: Peer }> = [];

  readonly send = (msg: SipMessage, peer: Peer): void => {
    this.sent.push({ at: this.clock.now(), msg, peer });
  };

  /** Times at which responses with this status were sent. */
  timesOf(status: number): number[] {
    return this.sent.filter((s) => s.msg.kind === 'response' && s.msg.status === status).map((s) => s.at);
  }

  /** Times at which requests with this method were sent. */
  requestTimes(method: string): number[] {
    return this.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === method).map((s) => s.at);
  }

  serverContext(reliable = false) {
    return { clock: this.clock, timers: DEFAULT_TIMERS, reliable, send: (res: SipResponse, p: Peer) => this.send(res, p) };
  }

  clientContext(reliable = false) {
    return { clock: this.clock, timers: DEFAULT_TIMERS, reliable, send: (req: SipRequest, p: Peer) => this.send(req, p) };
  }
}
