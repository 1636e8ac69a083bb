'use strict';
/**
 * DTMF-to-prompt latency probe: a minimal SIP UAC (UDP) that calls the dial-in number, logs in with RFC 4733 digits
 * and times, for each key that starts a new prompt, the interval from the first packet of that key's event (the
 * server reports a digit on its first packet) to the first RTP packet of the next prompt. Each timed key is sent
 * while the server is silent (the earlier digits of the entry interrupted the prompt; before '1' the probe waits
 * for the menu to end), so the first packet after the key is the next prompt's — its marker bit is set too
 * (RFC 3551 §4.1: the first packet of a talkspurt).
 *
 * Three keys are timed per call: '#' after the line number (→ "enter PIN"), '#' after the PIN (→ message count;
 * includes the PIN hash verification), '1' in the main menu (→ the first message's envelope; a store read).
 */
const dgram = require('node:dgram');
const { randomBytes } = require('node:crypto');

/** RFC 4733 §3.2 events: 0–9 → 0–9, * → 10, # → 11. */
const EVENT = { '*': 10, '#': 11 };
for (let d = 0; d <= 9; d++) EVENT[String(d)] = d;

const TE_PT = 101;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class DialInProbe {
  /**
   * @param {{ target: { host: string, port: number }, dialIn: string, line: string, pin: string, timeoutMs?: number }} o
   */
  constructor(o) {
    this.o = o;
    this.timeoutMs = o.timeoutMs ?? 20000;
    this.callId = `${randomBytes(8).toString('hex')}@bench`;
    this.tag = randomBytes(4).toString('hex');
    this.ssrc = randomBytes(4).readUInt32BE(0);
    this.seq = randomBytes(2).readUInt16BE(0);
    this.ts = randomBytes(4).readUInt32BE(0);
    this.cseq = 1;
    this.packetWaiters = [];
    this.lastRtpAt = 0;
    /** Send time of the last key's first packet, and the arrival of the first RTP packet after it. */
    this.keyAt = 0;
    this.firstAfterKey = null;
    this.responseWaiters = [];
    this.remoteRtp = null;
    this.toTag = '';
    this.contact = '';
    this.ended = false;
  }

  /** Runs one call; resolves with the three latencies in ms (any may be null when that prompt never came). */
  async run() {
    this.sip = dgram.createSocket('udp4');
    this.rtp = dgram.createSocket('udp4');
    await Promise.all([new Promise((r) => this.sip.bind(0, '127.0.0.1', r)), new Promise((r) => this.rtp.bind(0, '127.0.0.1', r))]);
    this.sip.on('message', (m) => this.#onSip(m.toString('latin1')));
    this.rtp.on('message', (m, rinfo) => this.#onRtp(m, rinfo));
    const latencies = { afterLine: null, afterPin: null, afterMenuKey: null };
    try {
      await this.#invite();
      await this.#nextPacket(this.timeoutMs); // the welcome prompt begins
      await sleep(200);
      latencies.afterLine = await this.#typeAndTime(`${this.o.line}#`);
      await sleep(200);
      latencies.afterPin = await this.#typeAndTime(`${this.o.pin}#`);
      await this.#silence(600);
      latencies.afterMenuKey = await this.#typeAndTime('1');
    } finally {
      await this.#bye().catch(() => undefined);
      this.sip.close();
      this.rtp.close();
    }
    return latencies;
  }

  #onSip(text) {
    const first = text.slice(0, text.indexOf('\r\n'));
    const header = (name) => {
      const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'mi').exec(text);
      return m ? m[1].trim() : '';
    };
    if (first.startsWith('SIP/2.0 ')) {
      const status = Number(first.split(' ')[1]);
      for (const w of this.responseWaiters.splice(0)) w({ status, text, header });
      return;
    }
    // A request from the server (BYE): answer 200 with its Via/From/To/Call-ID/CSeq.
    if (first.startsWith('BYE ')) this.ended = true;
    const reply = ['SIP/2.0 200 OK', ...['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((h) => `${h}: ${header(h)}`), 'Content-Length: 0', '', ''].join('\r\n');
    this.#sendSip(reply);
  }

  /**
   * The server sends RTP all the time (silence between prompts, so that the caller hears a stream), so a prompt is
   * told apart by the RTP header, not by packets arriving: RFC 3551 §4.1, "the first packet of a talkspurt (first
   * packet after a silence period) is distinguished by setting the marker bit" — the server's player sets it on the
   * first frame of a prompt that follows silence or an aborted prompt. The pause filler is PCMA silence (every
   * payload byte 0xD5, the A-law code of 0): only other payloads count as speech for `#silence`.
   */
  #onRtp(msg, rinfo) {
    if (msg.length < 12 || msg[0] >> 6 !== 2) return;
    this.remoteRtp ??= { address: rinfo.address, port: rinfo.port };
    const now = performance.now();
    const headerBytes = 12 + 4 * (msg[0] & 0x0f);
    let speech = false;
    for (let i = headerBytes; i < msg.length && !speech; i++) speech = msg[i] !== 0xd5;
    if (speech) this.lastRtpAt = now;
    if ((msg[1] & 0x80) === 0) return;
    if (this.firstAfterKey === null) this.firstAfterKey = now;
    if (this.packetWaiters.length > 0) for (const w of this.packetWaiters.splice(0)) w(now);
  }

  #sendSip(text) {
    this.sip.send(Buffer.from(text, 'latin1'), this.o.target.port, this.o.target.host);
  }

  /** Resolves with the arrival time of the first prompt start (marker bit) after the last key (any if none yet), or null after `timeoutMs`. */
  #nextPacket(timeoutMs) {
    if (this.keyAt > 0 && this.firstAfterKey !== null) return Promise.resolve(this.firstAfterKey);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.packetWaiters = this.packetWaiters.filter((w) => w !== onPacket);
        resolve(null);
      }, timeoutMs);
      const onPacket = (t) => {
        clearTimeout(timer);
        resolve(t);
      };
      this.packetWaiters.push(onPacket);
    });
  }

  /** Waits until no speech (only the silence filler, or nothing) has arrived for `ms` (the prompt being said is over). */
  async #silence(ms) {
    const deadline = performance.now() + this.timeoutMs;
    while (performance.now() - this.lastRtpAt < ms) {
      if (performance.now() > deadline) throw new Error(`the server did not fall silent within ${this.timeoutMs} ms`);
      await sleep(50);
    }
  }

  async #typeAndTime(keys) {
    for (const k of keys) {
      await this.#sendDigit(k);
      await sleep(60);
    }
    const t = await this.#nextPacket(this.timeoutMs);
    return t === null ? null : t - this.keyAt;
  }

  /**
   * One key as RFC 4733 packets: three updates (duration 160, 320, 480) 20 ms apart, then the end packet
   * sent three times (§2.5.1.4). Notes when the first packet left (`keyAt`).
   *
   *    0                   1                   2                   3
   *   |     event     |E|R| volume    |          duration             |
   */
  async #sendDigit(key) {
    const event = EVENT[key];
    if (event === undefined) throw new RangeError(`no RFC 4733 event for key ${key}`);
    const dest = this.remoteRtp;
    if (!dest) throw new Error('no RTP received from the server yet');
    this.ts = (this.ts + 1600) >>> 0;
    const packet = (marker, end, duration) => {
      const b = Buffer.alloc(16);
      b[0] = 0x80;
      b[1] = (marker ? 0x80 : 0) | TE_PT;
      b.writeUInt16BE(this.seq, 2);
      this.seq = (this.seq + 1) & 0xffff;
      b.writeUInt32BE(this.ts, 4);
      b.writeUInt32BE(this.ssrc, 8);
      b[12] = event;
      b[13] = (end ? 0x80 : 0) | 10;
      b.writeUInt16BE(duration, 14);
      return b;
    };
    for (let i = 1; i <= 3; i++) {
      this.rtp.send(packet(i === 1, false, 160 * i), dest.port, dest.address);
      if (i === 1) {
        this.keyAt = performance.now();
        this.firstAfterKey = null;
      }
      await sleep(20);
    }
    for (let i = 0; i < 3; i++) this.rtp.send(packet(false, true, 640), dest.port, dest.address);
  }

  #request(method, uri, extra, body = '') {
    const port = this.sip.address().port;
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      `From: <sip:0611223344@127.0.0.1:${port}>;tag=${this.tag}`,
      `To: <sip:${this.o.dialIn}@${this.o.target.host}:${this.o.target.port}>${this.toTag ? `;tag=${this.toTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${method === 'ACK' ? 1 : this.cseq} ${method}`,
      `Contact: <sip:bench@127.0.0.1:${port}>`,
      'Max-Forwards: 70',
      ...extra,
      `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
      '',
      body,
    ];
    return lines.join('\r\n');
  }

  #response(timeoutMs, accept) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final response within ${timeoutMs} ms`)), timeoutMs);
      const onResponse = (r) => {
        if (!accept(r)) return this.responseWaiters.push(onResponse);
        clearTimeout(timer);
        resolve(r);
      };
      this.responseWaiters.push(onResponse);
    });
  }

  async #invite() {
    const rtpPort = this.rtp.address().port;
    const sdp = [
      'v=0',
      `o=bench 1 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${rtpPort} RTP/AVP 8 ${TE_PT}`,
      'a=rtpmap:8 PCMA/8000',
      `a=rtpmap:${TE_PT} telephone-event/8000`,
      `a=fmtp:${TE_PT} 0-16`,
      'a=ptime:20',
      '',
    ].join('\r\n');
    const uri = `sip:${this.o.dialIn}@${this.o.target.host}:${this.o.target.port}`;
    const invite = this.#request('INVITE', uri, ['Content-Type: application/sdp'], sdp);
    const final = this.#response(this.timeoutMs, (r) => r.status >= 200);
    this.#sendSip(invite);
    // RFC 3261 §17.1.1.2 timer A, simplified: resend until a response arrives.
    let got = false;
    const resend = setInterval(() => !got && this.#sendSip(invite), 500);
    const r = await final.finally(() => {
      got = true;
      clearInterval(resend);
    });
    if (r.status !== 200) throw new Error(`INVITE answered ${r.status}`);
    this.toTag = /;tag=([^;>\s]+)/.exec(r.header('To'))?.[1] ?? '';
    this.contact = /<([^>]+)>/.exec(r.header('Contact'))?.[1] ?? uri;
    const media = /m=audio (\d+)/.exec(r.text);
    const conn = /c=IN IP4 (\S+)/.exec(r.text);
    if (media && conn) this.remoteRtp = { address: conn[1], port: Number(media[1]) };
    this.#sendSip(this.#request('ACK', this.contact, []));
  }

  async #bye() {
    if (this.ended || !this.toTag) return;
    this.cseq++;
    const done = this.#response(4000, (r) => r.status >= 200 && /BYE/.test(r.header('CSeq')));
    this.#sendSip(this.#request('BYE', this.contact, []));
    await done;
  }
}

module.exports = { DialInProbe };
