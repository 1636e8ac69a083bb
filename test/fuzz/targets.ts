/**
 * Fuzz targets shared by the CI property test (test/fuzz/fuzz.test.ts, small deterministic count) and the long
 * run (`npm run fuzz`, scripts/fuzz.js). Each target names an exported entry point, an input generator, the run
 * (which throws an AssertionError-like Error when a property is broken), and the errors that are ours: anything
 * else thrown is a crash. Only public entry points are called (the SIP parser and the audio decoding are being
 * rewritten elsewhere).
 */
import fc from 'fast-check';
import { parseMessage, SipParseError } from '../../src/sip/parser.js';
import { StreamFramer } from '../../src/sip/stream-framer.js';
import { sdpOf, SipBodyError } from '../../src/sip/body.js';
import { serialize } from '../../src/sip/message.js';
import { answerOffer, readAnswer, SdpNegotiationError } from '../../src/sip/sdp.js';
import { parseRtp, RtpHeaderView, writeRtpHeader } from '../../src/media/rtp-packet.js';
import { dtmfKeyOfEvent, parseDtmfInfoBody, Rfc4733Receiver } from '../../src/media/dtmf.js';
import { encodeWav } from '../../src/shared/audio/wav.js';
import { greetingFromUpload } from '../../src/api/audio.js';
import { AudioFormatError } from '../../src/shared/audio/types.js';
import { ApiError } from '../../src/api/errors.js';

export class PropertyBroken extends Error {
  override name = 'PropertyBroken';
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new PropertyBroken(what);
}

export interface FuzzTarget<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  run(input: T): void | Promise<void>;
  /** Our own typed errors: expected answers to bad input, not crashes. */
  ours(err: unknown): boolean;
}

const target = <T>(t: FuzzTarget<T>): FuzzTarget<unknown> => t as FuzzTarget<unknown>;

// ---- generators ---------------------------------------------------------------------------------------------

const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,11}$/);
/** RFC 3261 §25.1 user: unreserved / user-unreserved (no escapes generated). */
const uriUser = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._!~*'()&=+$,;?\/-]{0,11}$/);
const hostName = fc.oneof(fc.ipV4(), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,2}$/));
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'REGISTER', 'SUBSCRIBE'];

/** Mutations of a valid text: byte replacements, insertions of SIP-ish fragments, deletions, truncation. */
const FRAGMENTS = ['\r\n', '\r\n\r\n', '\n', ' ', '\t', ':', ';', ',', '<', '>', '"', '\\', '=', '@', '[', ']', 'sip:', 'SIP/2.0', 'Via:', ';branch=z9hG4bK', 'Content-Length: 99999999999', 'l: -1', '\u0000', '\u00ff', '%00', 'm=audio 0 RTP/AVP', 'a=rtpmap:', 'c=IN IP6 ::', '\r\n ', 'ÿ'];
const mutation = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...FRAGMENTS) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

export function mutate(buf: Buffer, mutations: Mutation[]): Buffer {
  let b = buf;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.op === 'replace' && b.length > 0) {
      b = Buffer.from(b);
      b[at % b.length] = m.byte;
    } else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.text, 'latin1'), b.subarray(at)]);
    else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    else if (m.op === 'truncate') b = b.subarray(0, at);
  }
  return b;
}

const sdpOfferFields = fc.record({
  address: fc.ipV4(),
  port: fc.integer({ min: 1, max: 32767 }).map((p) => p * 2),
  codecs: fc.subarray([0, 8], { minLength: 1 }),
  dtmf: fc.option(fc.integer({ min: 96, max: 127 }), { nil: undefined }),
  ptime: fc.option(fc.constantFrom(10, 20, 30, 40, 60), { nil: undefined }),
  direction: fc.option(fc.constantFrom('sendrecv', 'sendonly', 'recvonly', 'inactive'), { nil: undefined }),
  sessionId: fc.integer({ min: 0, max: 2 ** 31 }),
});

export function sdpOffer(o: typeof sdpOfferFields extends fc.Arbitrary<infer F> ? F : never): string {
  const pts = [...o.codecs, ...(o.dtmf !== undefined ? [o.dtmf] : [])];
  const lines = ['v=0', `o=- ${o.sessionId} 1 IN IP4 ${o.address}`, 's=-', `c=IN IP4 ${o.address}`, 't=0 0', `m=audio ${o.port} RTP/AVP ${pts.join(' ')}`];
  for (const pt of o.codecs) lines.push(`a=rtpmap:${pt} ${pt === 0 ? 'PCMU' : 'PCMA'}/8000`);
  if (o.dtmf !== undefined) lines.push(`a=rtpmap:${o.dtmf} telephone-event/8000`, `a=fmtp:${o.dtmf} 0-16`);
  if (o.ptime !== undefined) lines.push(`a=ptime:${o.ptime}`);
  if (o.direction !== undefined) lines.push(`a=${o.direction}`);
  return lines.join('\r\n') + '\r\n';
}

const sipRequestFields = fc.record({
  method: fc.constantFrom(...METHODS),
  user: uriUser,
  host: hostName,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  branch: token,
  fromTag: token,
  toTag: fc.option(token, { nil: undefined }),
  callId: fc.tuple(token, fc.option(hostName, { nil: undefined })).map(([a, h]) => (h ? `${a}@${h}` : a)),
  cseq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  display: fc.option(fc.stringMatching(/^[A-Za-z0-9 ]{1,12}$/), { nil: undefined }),
  extra: fc.array(fc.tuple(fc.constantFrom('Subject', 'User-Agent', 'X-Custom', 'Supported', 'Allow'), fc.stringMatching(/^[A-Za-z0-9 ,.;=_-]{0,20}$/)), { maxLength: 3 }),
  offer: fc.option(sdpOfferFields, { nil: undefined }),
});

export function sipRequest(f: typeof sipRequestFields extends fc.Arbitrary<infer F> ? F : never): Buffer {
  const hostPort = `${f.host}${f.port ? `:${f.port}` : ''}`;
  const body = f.offer ? sdpOffer(f.offer) : '';
  const lines = [
    `${f.method} sip:${f.user}@${hostPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${hostPort};branch=z9hG4bK${f.branch};rport`,
    'Max-Forwards: 70',
    `From: ${f.display ? `"${f.display.trim() || 'x'}" ` : ''}<sip:caller@${f.host}>;tag=${f.fromTag}`,
    `To: <sip:${f.user}@${f.host}>${f.toTag ? `;tag=${f.toTag}` : ''}`,
    `Call-ID: ${f.callId}`,
    `CSeq: ${f.cseq} ${f.method}`,
    ...f.extra.filter(([, v]) => v.trim() !== '').map(([n, v]) => `${n}: ${v.trim()}`),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

const sipTokens = fc.array(fc.constantFrom(...FRAGMENTS, 'INVITE', ' sip:a@b', 'SIP/2.0 200 OK', 'From:', 'To:', 'Call-ID:', 'CSeq: 1 INVITE', 'Max-Forwards:', 'tag=', 'x', '1', '[::1]', 'sips:', 'tel:+33'), { maxLength: 60 }).map((a) => Buffer.from(a.join(''), 'latin1'));
const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u));
const LOCAL = { address: '192.0.2.1', port: 40000, sessionId: '1', sessionVersion: 1 };
const isSipParseError = (e: unknown): boolean => e instanceof SipParseError;

// ---- targets ------------------------------------------------------------------------------------------------

export const TARGETS: Array<FuzzTarget<unknown>> = [
  target({
    name: 'sip parseMessage: valid requests round-trip',
    arbitrary: sipRequestFields.map(sipRequest),
    ours: () => false,
    run(buf) {
      const msg = parseMessage(buf);
      check(msg.kind === 'request', 'a request parses as a request');
      const again = parseMessage(serialize(msg));
      check(serialize(again).equals(serialize(msg)), 'serialize(parse(serialize(m))) is stable');
      check(again.headers.get('Call-ID') === msg.headers.get('Call-ID'), 'Call-ID survives');
    },
  }),
  target({
    name: 'sip parseMessage: mutated requests',
    arbitrary: fc.tuple(sipRequestFields.map(sipRequest), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([b, m]) => mutate(b, m)),
    ours: isSipParseError,
    run: (buf) => void parseMessage(buf),
  }),
  target({ name: 'sip parseMessage: SIP-ish token soup', arbitrary: sipTokens, ours: isSipParseError, run: (buf) => void parseMessage(buf) }),
  target({ name: 'sip parseMessage: random bytes', arbitrary: bytes(1500), ours: isSipParseError, run: (buf) => void parseMessage(buf) }),
  target({
    // RFC 5621 bodies (SDP next to ISUP, as SIP-I trunks send): parse, then find the SDP part, as the UAS does.
    name: 'sip multipart bodies: mutated INVITEs through sdpOf',
    arbitrary: fc.tuple(fc.array(fc.constantFrom('--b\r\n', '--b--\r\n', 'Content-Type: application/sdp\r\n', 'Content-Type: application/isup\r\n', '\r\n', 'v=0\r\n', 'x', '\x00'), { maxLength: 40 }), fc.array(mutation, { maxLength: 4 }))
      .map(([parts, m]) => {
        const body = parts.join('');
        const head = `INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Type: multipart/mixed;boundary=b\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n`;
        return mutate(Buffer.from(head + body, 'latin1'), m);
      }),
    ours: (e) => e instanceof SipParseError || e instanceof SipBodyError,
    run: (buf) => void sdpOf(parseMessage(buf)),
  }),
  target({
    name: 'sip StreamFramer: valid messages cut anywhere come out whole',
    arbitrary: fc.tuple(fc.array(sipRequestFields.map(sipRequest), { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 20 })),
    ours: () => false,
    run([messages, cuts]) {
      const stream = Buffer.concat(messages);
      const framer = new StreamFramer();
      const out: Buffer[] = [];
      let at = 0;
      for (const c of [...cuts, stream.length]) {
        const next = Math.min(stream.length, at + c);
        for (const item of framer.push(stream.subarray(at, next))) if ('message' in item) out.push(item.message);
        at = next;
      }
      check(out.length === messages.length && out.every((m, i) => m.equals(messages[i]!)), 'every message framed whole');
    },
  }),
  target({
    name: 'sip StreamFramer: mutated streams',
    arbitrary: fc.tuple(sipRequestFields.map(sipRequest), fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 64 })),
    ours: isSipParseError,
    run([b, m, chunk]) {
      const s = mutate(Buffer.concat([b, b]), m);
      const framer = new StreamFramer();
      for (let i = 0; i < s.length; i += chunk) for (const item of framer.push(s.subarray(i, i + chunk))) if ('message' in item) parseMessage(item.message);
    },
  }),
  target({
    name: 'sdp answerOffer: valid offers are answered and the answer reads back',
    arbitrary: sdpOfferFields,
    ours: (e) => e instanceof SdpNegotiationError,
    run(o) {
      const { answer, media } = answerOffer(sdpOffer(o), LOCAL);
      check(o.codecs.includes(media.codec === 'PCMU' ? 0 : 8), 'the chosen codec was offered');
      check(media.remotePort === o.port && media.remoteAddress === o.address, 'remote address and port kept');
      check((media.ptimeMs === (o.ptime ?? 20)), 'ptime kept');
      const back = readAnswer(answer);
      check(back.remotePort === LOCAL.port && back.codec === media.codec, 'our answer reads back');
    },
  }),
  target({
    name: 'sdp answerOffer: mutated offers',
    arbitrary: fc.tuple(sdpOfferFields.map((o) => Buffer.from(sdpOffer(o), 'latin1')), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([b, m]) => mutate(b, m).toString('latin1')),
    ours: (e) => e instanceof SdpNegotiationError,
    run(s) {
      answerOffer(s, LOCAL);
    },
  }),
  target({
    name: 'sdp readAnswer: random text',
    arbitrary: fc.string({ maxLength: 400 }),
    ours: (e) => e instanceof SdpNegotiationError,
    run: (s) => void readAnswer(s),
  }),
  target({
    name: 'rtp parseRtp: random datagrams',
    arbitrary: bytes(300),
    ours: () => false,
    run(buf) {
      const view = new RtpHeaderView();
      const r = parseRtp(buf, view);
      check(['ok', 'rtcp', 'short', 'version', 'csrc', 'extension', 'padding'].includes(r), `known result ${r}`);
      if (r === 'ok') check(view.payloadOffset <= view.payloadEnd && view.payloadEnd <= buf.length, 'payload bounds inside the datagram');
    },
  }),
  target({
    name: 'rtp writeRtpHeader/parseRtp round-trip',
    arbitrary: fc.record({ marker: fc.boolean(), pt: fc.integer({ min: 0, max: 127 }).filter((p) => p < 64 || p > 95), seq: fc.integer({ min: 0, max: 65535 }), ts: fc.nat({ max: 2 ** 32 - 1 }), ssrc: fc.nat({ max: 2 ** 32 - 1 }), payload: bytes(200) }),
    ours: () => false,
    run(p) {
      const buf = Buffer.alloc(12 + p.payload.length);
      writeRtpHeader(buf, 0, p.marker, p.pt, p.seq, p.ts, p.ssrc);
      p.payload.copy(buf, 12);
      const view = new RtpHeaderView();
      check(parseRtp(buf, view) === 'ok', 'our own header parses');
      check(view.marker === p.marker && view.payloadType === p.pt && view.sequenceNumber === p.seq && view.timestamp === p.ts && view.ssrc === p.ssrc, 'fields round-trip');
      check(view.payloadOffset === 12 && view.payloadEnd === buf.length, 'payload bounds');
    },
  }),
  target({
    name: 'dtmf RFC 4733: random event packets; a first event reports its key',
    arbitrary: fc.array(fc.record({ ssrc: fc.nat({ max: 2 ** 32 - 1 }), ts: fc.nat({ max: 2 ** 32 - 1 }), payload: bytes(8) }), { minLength: 1, maxLength: 30 }),
    ours: () => false,
    run(packets) {
      const rx = new Rfc4733Receiver();
      packets.forEach((p, i) => {
        const key = rx.push(p.ssrc, p.ts, p.payload);
        check(key === null || /^[0-9*#A-D]$/.test(key), `key ${String(key)}`);
        if (i === 0 && p.payload.length >= 4) check(key === dtmfKeyOfEvent(p.payload[0]!), 'the first event is reported');
      });
    },
  }),
  target({
    name: 'dtmf SIP INFO bodies',
    arbitrary: fc.tuple(fc.constantFrom('application/dtmf-relay', 'application/dtmf', 'Application/DTMF-Relay; x=1', 'text/plain'), fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom(...'0123456789*#ABCD').map((k) => `Signal=${k}\r\nDuration=160\r\n`))),
    ours: () => false,
    run([type, body]) {
      const key = parseDtmfInfoBody(type, body);
      check(key === null || /^[0-9*#A-D]$/.test(key), `key ${String(key)}`);
      const m = /^Signal=(.)\r\nDuration=160\r\n$/.exec(body);
      if (m && type.toLowerCase().startsWith('application/dtmf-relay')) check(key === m[1], 'a relay body reports its key');
    },
  }),
];

// ---- greeting upload (async) --------------------------------------------------------------------------------

const MAGICS = ['RIFF\u0000\u0000\u0000\u0000WAVE', '.snd', 'FORM\u0000\u0000\u0000\u0000AIFF', 'fLaC', 'OggS', 'ID3\u0003', '\u00ff\u00fb'];
const uploadOurs = (e: unknown): boolean => e instanceof AudioFormatError || (e instanceof ApiError && e.status === 400);
const pcm = fc.record({ rate: fc.constantFrom(8000, 11025, 16000, 22050, 44100, 48000), samples: fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 800 }) });

export const UPLOAD_TARGETS: Array<FuzzTarget<unknown>> = [
  target({
    name: 'greeting upload: valid WAVs decode to the right length',
    arbitrary: pcm,
    ours: () => false,
    async run(p) {
      const upload = greetingFromUpload(encodeWav(Int16Array.from(p.samples), p.rate), { filename: 'g.wav' });
      if (Math.round((p.samples.length * 8000) / p.rate) === 0) {
        // Nothing left at 8 kHz: an empty greeting is refused (AudioFormatError → 400).
        const error = await upload.catch((e: unknown) => e);
        check(error instanceof Error && error.name === 'AudioFormatError', `an empty greeting is refused, got ${String(error)}`);
        return;
      }
      const { wav, durationMs } = await upload;
      const expected = (p.samples.length * 1000) / p.rate;
      check(Math.abs(durationMs - expected) <= 1 + 1000 / 8000, `duration ${durationMs} ms for ${expected} ms`);
      check(wav.length >= 44, 'a WAV comes out');
    },
  }),
  target({
    name: 'greeting upload: mutated WAVs',
    arbitrary: fc.tuple(pcm.map((p) => encodeWav(Int16Array.from(p.samples), p.rate)), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([b, m]) => mutate(b, m)),
    ours: uploadOurs,
    run: async (b) => void (await greetingFromUpload(b, { filename: 'g.wav' })),
  }),
  target({
    name: 'greeting upload: magic bytes + random tails',
    arbitrary: fc.tuple(fc.constantFrom(...MAGICS), bytes(600)).map(([m, t]) => Buffer.concat([Buffer.from(m, 'latin1'), t])),
    ours: uploadOurs,
    run: async (b) => void (await greetingFromUpload(b, {})),
  }),
];

export const ALL_TARGETS = [...TARGETS, ...UPLOAD_TARGETS];
