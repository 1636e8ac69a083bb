/**
 * SDP offer/answer for a voicemail UAS (RFC 3264, SDP syntax RFC 4566 via sdp-transform).
 *
 * We speak G.711 only (PCMU payload 0, PCMA payload 8, RFC 3551 §6) plus telephone-event (RFC 4733) at 8 kHz,
 * on one audio stream.
 */
import { parse as parseSdp, write as writeSdp, type MediaDescription, type SessionDescription } from 'sdp-transform';

export type G711 = 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What the media layer needs to know once offer and answer are agreed. */
export interface NegotiatedMedia {
  codec: G711;
  payloadType: number;
  /** Every payload type the peer declared as telephone-event/8000 (RFC 4733 §7.1.1). */
  telephoneEventPayloadTypes: number[];
  remoteAddress: string;
  remotePort: number;
  /** Packetisation time the peer asked for (a=ptime), default 20 ms (RFC 3551 §4.5). */
  ptimeMs: number;
  /** Direction from OUR point of view in the answer. */
  direction: Direction;
  /** The peer's CN/8000 payload type (RFC 3389 comfort noise) when it offered one; we answer it too. */
  comfortNoisePayloadType?: number;
}

export interface LocalMedia {
  address: string;
  port: number;
  /** o= session id, constant for the dialog (RFC 4566 §5.2). */
  sessionId: string;
  /** o= version, incremented on every new description we send (RFC 3264 §8). */
  sessionVersion: number;
}

export class SdpNegotiationError extends Error {
  override name = 'SdpNegotiationError';
  /** A Warning header value to send with 488 (RFC 3261 §20.43: 304 media type / 305 incompatible format). */
  constructor(message: string, readonly warnCode: 304 | 305 | 399 = 305) {
    super(message);
  }
}

const STATIC_G711: Record<number, G711> = { 0: 'PCMU', 8: 'PCMA' };
const DEFAULT_TELEPHONE_EVENT_PT = 101;
const CN_STATIC_PT = 13;

/**
 * "CODEC/rate" of each payload type with an a=rtpmap (the first one wins), built once per m= section: looking
 * each payload type up in the list instead would cost payloads × rtpmaps, quadratic on a hostile 60 KB offer.
 */
const rtpmapsOf = new WeakMap<MediaDescription, Map<number, string>>();

function codecOf(m: MediaDescription, pt: number): string | undefined {
  let rtpmaps = rtpmapsOf.get(m);
  if (!rtpmaps) {
    rtpmaps = new Map();
    // sdp-transform types `codec` as a string but gives a number for "a=rtpmap:112 8000": read it as text.
    for (const r of m.rtp ?? []) if (!rtpmaps.has(r.payload)) rtpmaps.set(r.payload, `${String(r.codec).toUpperCase()}/${r.rate ?? ''}`);
    rtpmapsOf.set(m, rtpmaps);
  }
  const mapped = rtpmaps.get(pt);
  if (mapped !== undefined) return mapped;
  if (pt in STATIC_G711) return `${STATIC_G711[pt]}/8000`;
  // RFC 3551 §6, table 4: static payload type 13 is CN/8000 (RFC 3389).
  if (pt === CN_STATIC_PT) return 'CN/8000';
  return undefined;
}

/**
 * The m= line's payload types in order, each once: RFC 3551 §3 payload types are 0–127, so a hostile m= line of
 * thousands of formats comes down to at most 128 (and `tePts.includes` below stays cheap).
 */
function payloadTypes(m: MediaDescription): number[] {
  const seen = new Set<number>();
  for (const word of String(m.payloads ?? '').split(/\s+/)) {
    if (word === '') continue;
    seen.add(Number(word));
  }
  return [...seen];
}

function directionOf(m: MediaDescription, s: SessionDescription): Direction {
  return (m.direction ?? s.direction ?? 'sendrecv') as Direction;
}

/**
 * RFC 3264 §6.1: "If a stream is offered as sendonly, the corresponding stream MUST be marked as recvonly or
 * inactive in the answer. If a media stream is listed as recvonly in the offer, the answer MUST be marked as
 * sendonly or inactive in the answer. If an offered media stream is listed as sendrecv (or if there is no
 * direction attribute at the media or session level ...), the corresponding stream in the answer MAY be marked
 * as sendonly, recvonly, sendrecv, or inactive."
 */
function answerDirection(offered: Direction): Direction {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    case 'inactive':
      return 'inactive';
    default:
      return 'sendrecv';
  }
}

function audioDescription(
  port: number,
  codecPts: Array<[number, G711]>,
  tePts: number[],
  direction: Direction,
  ptime?: number,
  cnPt?: number,
): MediaDescription {
  const rtp: MediaDescription['rtp'] = codecPts.map(([pt, c]) => ({ payload: pt, codec: c, rate: 8000 }));
  const fmtp: MediaDescription['fmtp'] = [];
  for (const pt of tePts) {
    rtp.push({ payload: pt, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: pt, config: '0-16' });
  }
  const cn = cnPt === undefined ? [] : [cnPt];
  for (const pt of cn) rtp.push({ payload: pt, codec: 'CN', rate: 8000 });
  const m: MediaDescription = {
    type: 'audio',
    port,
    protocol: 'RTP/AVP',
    payloads: [...codecPts.map(([pt]) => pt), ...tePts, ...cn].join(' '),
    rtp,
    fmtp,
    direction,
  };
  if (ptime) m.ptime = ptime;
  return m;
}

function session(local: LocalMedia, media: MediaDescription[]): string {
  const ipVer = local.address.includes(':') ? 6 : 4;
  const desc: SessionDescription = {
    version: 0,
    origin: { username: 'repondeur', sessionId: local.sessionId, sessionVersion: local.sessionVersion, netType: 'IN', ipVer, address: local.address },
    name: 'repondeur',
    connection: { version: ipVer, ip: local.address },
    timing: { start: 0, stop: 0 },
    media,
  };
  return writeSdp(desc);
}

/** Our offer, for an INVITE that came without one (RFC 3261 §13.2.1 / §13.3.1: offer in the 2xx, answer in the ACK). */
export function createOffer(local: LocalMedia): string {
  return session(local, [audioDescription(local.port, [[0, 'PCMU'], [8, 'PCMA']], [DEFAULT_TELEPHONE_EVENT_PT], 'sendrecv', 20)]);
}

/** Hard limits on an SDP we read (issue 11): far above any real offer, far below what costs the event loop. */
export const SDP_LIMITS = {
  /** m= sections (each is answered, rejected or not: RFC 3264 §6). */
  maxMedia: 32,
  /** Lines in all (a 64 KB offer of 1,000 ICE candidates has about 1,100). */
  maxLines: 2048,
  /** Lines kept after dropping the attributes we never read (see {@link linesWeRead}). */
  maxLinesRead: 1024,
  /** Length of a line we read (an m= line of 128 payload types is under 600 characters). */
  maxLineRead: 2048,
} as const;

/** The a= attributes the offer/answer code reads; sdp-transform tries ~50 regular expressions on every other one. */
const ATTRIBUTES_WE_READ = new Set(['rtpmap', 'ptime', 'sendrecv', 'sendonly', 'recvonly', 'inactive']);

/**
 * The lines of `sdp` that answerOffer/readAnswer read — every non-attribute line, and the attributes of
 * {@link ATTRIBUTES_WE_READ} — in one pass: a 60 KB offer of ICE candidates or unknown attributes then costs a
 * scan, not 10,000 × 50 regular expressions in sdp-transform. RFC 4566 §5: "An SDP session description consists
 * of a number of lines of text of the form: <type>=<value>"; lines may end in CRLF or LF (§5), and, like
 * sdp-transform, we accept a lone CR too. Throws past {@link SDP_LIMITS}.
 */
function linesWeRead(sdp: string): string {
  const kept: string[] = [];
  let media = 0;
  let from = 0;
  // Line ends by native search: the next LF and the next CR, each searched again only once passed.
  let lf = -1;
  let cr = -1;
  let lines = 0;
  while (from < sdp.length) {
    if (lf < from) lf = sdp.indexOf('\n', from) >>> 0; // -1 becomes 2^32 - 1: "none"
    if (cr < from) cr = sdp.indexOf('\r', from) >>> 0;
    const end = Math.min(lf, cr, sdp.length);
    const next = end === cr && cr + 1 === lf ? lf + 1 : end + 1;
    if (++lines > SDP_LIMITS.maxLines) throw new SdpNegotiationError(`SDP of more than ${SDP_LIMITS.maxLines} lines`, 399);
    if (end >= from + 2 && sdp.charCodeAt(from + 1) === 0x3d /* = */) {
      const type = sdp.charCodeAt(from);
      let keep = true;
      if (type === 0x61 /* a */) {
        // Every attribute we read starts with r, p, s or i: the others are dropped without a copy.
        const first = end > from + 2 ? sdp.charCodeAt(from + 2) : 0;
        keep = first === 0x72 || first === 0x70 || first === 0x73 || first === 0x69;
        if (keep) {
          let nameEnd = from + 2;
          while (nameEnd < end && nameEnd < from + 12 && sdp.charCodeAt(nameEnd) !== 0x3a /* : */) nameEnd++;
          keep = ATTRIBUTES_WE_READ.has(sdp.slice(from + 2, nameEnd));
        }
      } else if (type === 0x6d /* m */ && ++media > SDP_LIMITS.maxMedia) {
        throw new SdpNegotiationError(`SDP has more than ${SDP_LIMITS.maxMedia} media descriptions`, 399);
      }
      if (keep) {
        if (end - from > SDP_LIMITS.maxLineRead) throw new SdpNegotiationError(`SDP line longer than ${SDP_LIMITS.maxLineRead} characters`, 399);
        if (kept.length === SDP_LIMITS.maxLinesRead) throw new SdpNegotiationError(`SDP has more than ${SDP_LIMITS.maxLinesRead} lines we read`, 399);
        kept.push(sdp.slice(from, end));
      }
    }
    from = next;
  }
  return kept.join('\r\n') + '\r\n';
}

function parse(sdp: string): SessionDescription {
  let desc: SessionDescription;
  const text = linesWeRead(sdp);
  try {
    desc = parseSdp(text);
  } catch (err) {
    throw new SdpNegotiationError(`unparseable SDP: ${(err as Error).message}`, 399);
  }
  if (!desc || !Array.isArray(desc.media) || desc.media.length === 0) throw new SdpNegotiationError('SDP has no media description', 304);
  return desc;
}

function connectionAddress(m: MediaDescription, s: SessionDescription): string {
  // RFC 4566 §5.7: "A session description MUST contain either at least one "c=" field in each media description
  // or a single "c=" field at the session level."
  const ip = m.connection?.ip ?? s.connection?.ip;
  if (!ip) throw new SdpNegotiationError('SDP has no connection address (c=)', 399);
  // sdp-transform turns a numeric-looking address ("c=IN IP4 100.1") into a number: take it back as text.
  return String(ip).split('/')[0]!;
}

/** An offer negotiated once (RFC 3264 §6): what both sides agreed on, and our answer for whatever port we open. */
export interface OfferNegotiation {
  readonly media: NegotiatedMedia;
  /** Our answer SDP with `local`'s address, port and o= line. */
  answer(local: LocalMedia): string;
}

/**
 * Negotiates an offer (RFC 3264 §6): the media parameters both sides agree on, and our answer, written once we
 * know the local address and port. Throws SdpNegotiationError when nothing in the offer is usable (488).
 *
 * §6: "The answer MUST contain exactly the same number of "m=" lines as the offer." A stream we reject is answered
 * with port zero (§6: "An offered stream MAY be rejected in the answer, for any reason. If a stream is rejected,
 * the offerer and answerer MUST NOT generate media ... To reject an offered stream, the port number in the
 * corresponding stream in the answer MUST be set to zero.").
 * §6.1: "For streams marked as sendrecv in the answer, the "m=" line MUST contain at least one codec the answerer
 * is willing to both send and receive, from amongst those listed in the offer." We pick the first G.711 codec in
 * the offerer's order of preference and answer with it alone (plus telephone-event with the offered payload types).
 */
export function negotiateOffer(offerSdp: string): OfferNegotiation {
  const offer = parse(offerSdp);
  let chosen: NegotiatedMedia | undefined;
  const answered: MediaDescription[] = [];
  /** The m= section we answer with our port (every other one is rejected with port 0). */
  let chosenIndex = -1;
  for (const m of offer.media) {
    const payloads = payloadTypes(m);
    const rejected: MediaDescription = { type: m.type, port: 0, protocol: m.protocol, payloads: String(payloads[0] ?? 0), rtp: [], fmtp: [] };
    if (chosen || m.type !== 'audio' || m.port === 0 || !/^RTP\/AVP$/i.test(m.protocol)) {
      answered.push(rejected);
      continue;
    }
    const pt = payloads.find((p) => {
      const c = codecOf(m, p);
      return c === 'PCMU/8000' || c === 'PCMA/8000';
    });
    if (pt === undefined) {
      answered.push(rejected);
      continue;
    }
    const codec = codecOf(m, pt)!.startsWith('PCMU') ? 'PCMU' : 'PCMA';
    const tePts = payloads.filter((p) => codecOf(m, p) === 'TELEPHONE-EVENT/8000');
    const direction = answerDirection(directionOf(m, offer));
    const ptime = m.ptime && m.ptime >= 10 && m.ptime <= 60 && m.ptime % 10 === 0 ? m.ptime : 20;
    // RFC 3389 §5: "the CN payload type ... MUST be negotiated" like any other: we send comfort noise in pauses
    // only to a peer that offered CN/8000, and answer with it so the peer knows to expect it.
    const cnPt = payloads.find((p) => p !== pt && !tePts.includes(p) && codecOf(m, p) === 'CN/8000');
    chosen = {
      codec,
      payloadType: pt,
      telephoneEventPayloadTypes: tePts,
      remoteAddress: connectionAddress(m, offer),
      remotePort: m.port,
      ptimeMs: ptime,
      direction,
      ...(cnPt === undefined ? {} : { comfortNoisePayloadType: cnPt }),
    };
    chosenIndex = answered.length;
    answered.push(audioDescription(0, [[pt, codec]], tePts, direction, m.ptime ? ptime : undefined, cnPt));
  }
  if (!chosen) {
    const audio = offer.media.some((m) => m.type === 'audio' && m.port !== 0);
    throw audio
      ? new SdpNegotiationError('no common codec: we accept PCMU/8000 and PCMA/8000 over RTP/AVP', 305)
      : new SdpNegotiationError('no audio stream offered', 304);
  }
  return {
    media: chosen,
    answer: (local) => session(local, answered.map((m, i) => (i === chosenIndex ? { ...m, port: local.port } : m))),
  };
}

/** {@link negotiateOffer} and the answer for `local` in one step (a re-INVITE, whose port is already open). */
export function answerOffer(offerSdp: string, local: LocalMedia): { answer: string; media: NegotiatedMedia } {
  const negotiated = negotiateOffer(offerSdp);
  return { answer: negotiated.answer(local), media: negotiated.media };
}

/**
 * Reads the peer's answer to our offer (late offer: the answer comes in the ACK, RFC 3261 §13.2.1).
 * RFC 3264 §6.1: the answerer picks from what we offered, so its first listed G.711 payload type is the one to use.
 */
export function readAnswer(answerSdp: string): NegotiatedMedia {
  const desc = parse(answerSdp);
  const m = desc.media.find((x) => x.type === 'audio' && x.port !== 0);
  if (!m) throw new SdpNegotiationError('answer rejected the audio stream', 304);
  const payloads = payloadTypes(m);
  const pt = payloads.find((p) => ['PCMU/8000', 'PCMA/8000'].includes(codecOf(m, p) ?? ''));
  if (pt === undefined) throw new SdpNegotiationError('answer holds neither PCMU nor PCMA', 305);
  const offeredDir = directionOf(m, desc);
  return {
    codec: codecOf(m, pt)!.startsWith('PCMU') ? 'PCMU' : 'PCMA',
    payloadType: pt,
    telephoneEventPayloadTypes: payloads.filter((p) => codecOf(m, p) === 'TELEPHONE-EVENT/8000'),
    remoteAddress: connectionAddress(m, desc),
    remotePort: m.port,
    ptimeMs: m.ptime && m.ptime >= 10 && m.ptime <= 60 ? m.ptime : 20,
    // Their direction in the answer is the mirror of ours.
    direction: answerDirection(offeredDir),
  };
}
