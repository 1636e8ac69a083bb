'use strict';
/**
 * Checks that stored voicemail recordings hold, sample for sample, the audio a load scenario sent: the RTP payloads
 * of a pcap (SIPp's g711a.pcap) played N times, decoded with an independent G.711 decoder (alawmulaw). Only
 * silence (zero samples: what the recorder writes for a gap) may surround or separate the expected frames.
 * Plain CommonJS so that `npm run bench` (plain Node) and the jest load test share it; types in the .d.ts beside it.
 */
const { readFileSync } = require('node:fs');
const { alaw, mulaw } = require('alawmulaw');

/**
 * pcap file (libpcap, microsecond or nanosecond, either byte order), link type Ethernet (1), IPv4, UDP, RTP:
 *
 *   global header (24 bytes): magic(4) ver(2+2) zone(4) sigfigs(4) snaplen(4) linktype(4)
 *   per packet: ts_sec(4) ts_frac(4) incl_len(4) orig_len(4) | Ethernet(14) | IPv4(IHL·4) | UDP(8) | RTP
 *
 * RTP (RFC 3550 §5.1):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers (CC × 4)    |
 *   | [extension: profile(2) length(2) length×4 bytes]  payload …   |
 *
 * @param {string} path
 * @returns {{ payloadType: number, sequenceNumber: number, timestamp: number, payload: Buffer }[]}
 */
function readPcapRtp(path) {
  const buf = readFileSync(path);
  if (buf.length < 24) throw new Error(`${path}: not a pcap file (${buf.length} bytes)`);
  const magic = buf.readUInt32LE(0);
  let le;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${path}: not a pcap file (magic 0x${magic.toString(16)})`);
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`${path}: link type ${linkType} is not Ethernet`);
  const out = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    const pkt = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (pkt.length < 14 + 20 + 8 + 12 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt[14] & 0x0f) * 4;
    if (pkt[14 + 9] !== 17) continue;
    const udpLen = pkt.readUInt16BE(14 + ihl + 4);
    const rtp = pkt.subarray(14 + ihl + 8, 14 + ihl + udpLen);
    if (rtp.length < 12 || rtp[0] >> 6 !== 2) continue;
    let hdr = 12 + (rtp[0] & 0x0f) * 4;
    if (rtp[0] & 0x10) hdr += 4 + rtp.readUInt16BE(hdr + 2) * 4;
    let end = rtp.length;
    if (rtp[0] & 0x20) end -= rtp[end - 1];
    out.push({ payloadType: rtp[1] & 0x7f, sequenceNumber: rtp.readUInt16BE(2), timestamp: rtp.readUInt32BE(4), payload: rtp.subarray(hdr, end) });
  }
  return out;
}

/**
 * The audio frames a scenario sends: every G.711 payload of the pcap, decoded, `plays` times over.
 * @param {string} pcapPath
 * @param {number} plays
 * @returns {Int16Array[]}
 */
function expectedFrames(pcapPath, plays) {
  const once = readPcapRtp(pcapPath)
    .filter((p) => p.payloadType === 8 || p.payloadType === 0)
    .map((p) => (p.payloadType === 8 ? alaw.decode(p.payload) : mulaw.decode(p.payload)));
  if (once.length === 0) throw new Error(`${pcapPath}: no PCMA/PCMU packets`);
  const frames = [];
  for (let i = 0; i < plays; i++) frames.push(...once);
  return frames;
}

/**
 * Samples of a 16-bit PCM WAV (RIFF chunks walked, so a LIST chunk before `data` is fine).
 * @param {Uint8Array} bytes
 * @returns {Int16Array}
 */
function wavSamples(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let off = 12;
  let bits = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') bits = b.readUInt16LE(off + 8 + 14);
    if (id === 'data') {
      if (bits !== 16) throw new Error(`WAV has ${bits}-bit samples, expected 16`);
      const n = Math.min(size, b.length - off - 8) >> 1;
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(off + 8 + 2 * i);
      return out;
    }
    off += 8 + size + (size & 1);
  }
  throw new Error('WAV has no data chunk');
}

function matchesAt(samples, at, frame) {
  if (at + frame.length > samples.length) return false;
  for (let i = 0; i < frame.length; i++) if (samples[at + i] !== frame[i]) return false;
  return true;
}

/** How far past the current position a frame is looked for (a lost frame's silence fill, resync slack): 2 s. */
const SEARCH_SAMPLES = 16000;

/**
 * Walks the expected frames in order through the recording. A frame found at the current position (or, after
 * zeros or stray samples, within 2 s of it; anywhere for the first one) is matched; one not found is missing.
 * @param {Int16Array} samples  the stored recording
 * @param {Int16Array[]} frames  expectedFrames()
 * @returns {{ frames: number, matched: number, missing: number, leadingSilence: number, trailingSilence: number, strayNonZero: number, complete: boolean }}
 */
function checkRecording(samples, frames) {
  let pos = 0;
  let matched = 0;
  let missing = 0;
  let strayNonZero = 0;
  let leadingSilence = 0;
  const countNonZero = (from, to) => {
    let n = 0;
    for (let i = from; i < to; i++) if (samples[i] !== 0) n++;
    return n;
  };
  for (const frame of frames) {
    if (matchesAt(samples, pos, frame)) {
      pos += frame.length;
      matched++;
      continue;
    }
    const limit = matched === 0 ? samples.length : Math.min(samples.length, pos + SEARCH_SAMPLES);
    let found = -1;
    for (let q = pos + 1; q + frame.length <= limit; q++) {
      if (samples[q] === frame[0] && matchesAt(samples, q, frame)) {
        found = q;
        break;
      }
    }
    if (found < 0) {
      missing++;
      continue;
    }
    if (matched === 0) leadingSilence = found - countNonZero(0, found);
    strayNonZero += countNonZero(pos, found);
    pos = found + frame.length;
    matched++;
  }
  const tailNonZero = countNonZero(pos, samples.length);
  strayNonZero += tailNonZero;
  return {
    frames: frames.length,
    matched,
    missing,
    leadingSilence,
    trailingSilence: samples.length - pos - tailNonZero,
    strayNonZero,
    complete: missing === 0 && strayNonZero === 0,
  };
}

/**
 * For calls that talk from the answer and hang up (load-deposit-asterisk-shape.xml): the recording starts after
 * the greeting and beep and is ended by the caller's BYE, so it must hold a suffix of the expected frames.
 * Complete means: the stored samples are exactly one contiguous run frames[first..last] ending with the last
 * frame, no frame missing or silence inserted inside it, and only silence (zeros) around it. A-law decodes to no
 * zero sample (its smallest magnitude is 8), so with g711a.pcap a zero is always the recorder's fill.
 *
 * Walks backwards from the last non-zero sample: each frame is expected right before the one after it; one not
 * there is looked for within 2 s before (zeros skipped count as inserted silence, other samples as stray), and
 * one not found is missing — counted only if an earlier frame is found again, i.e. inside the kept part (which
 * runs from the first kept frame to the last expected one, so absent final frames count as missing too).
 * @param {Int16Array} samples  the stored recording
 * @param {Int16Array[]} frames  expectedFrames()
 * @returns {{ frames: number, firstFrame: number, kept: number, matched: number, missing: number, gapSamples: number, leadingSilence: number, trailingSilence: number, strayNonZero: number, endsWithLastFrame: boolean, complete: boolean }}
 */
function checkRecordingTail(samples, frames) {
  const countNonZero = (from, to) => {
    let n = 0;
    for (let i = from; i < to; i++) if (samples[i] !== 0) n++;
    return n;
  };
  let end = samples.length;
  while (end > 0 && samples[end - 1] === 0) end--;
  const last = frames[frames.length - 1];
  const endsWithLastFrame = end >= last.length && matchesAt(samples, end - last.length, last);
  let p = end;
  let firstFrame = frames.length;
  let matched = 0;
  let missing = 0;
  let pendingMissing = 0;
  let gapSamples = 0;
  let strayNonZero = 0;
  for (let i = frames.length - 1; i >= 0 && p > 0; i--) {
    const f = frames[i];
    if (p >= f.length && matchesAt(samples, p - f.length, f)) {
      p -= f.length;
    } else {
      if (countNonZero(0, p) === 0) break;
      // Frame i ending at q, for q from p − 1 down to 2 s before p.
      let found = -1;
      const tail = f[f.length - 1];
      for (let q = p - 1; q >= f.length && q >= p - SEARCH_SAMPLES; q--) {
        if (samples[q - 1] === tail && matchesAt(samples, q - f.length, f)) {
          found = q;
          break;
        }
      }
      if (found < 0) {
        pendingMissing++;
        continue;
      }
      const nonZero = countNonZero(found, p);
      strayNonZero += nonZero;
      gapSamples += p - found - nonZero;
      p = found - f.length;
    }
    matched++;
    firstFrame = i;
    missing += pendingMissing;
    pendingMissing = 0;
  }
  const leadingNonZero = countNonZero(0, p);
  strayNonZero += leadingNonZero;
  return {
    frames: frames.length,
    firstFrame,
    kept: frames.length - firstFrame,
    matched,
    missing,
    gapSamples,
    leadingSilence: p - leadingNonZero,
    trailingSilence: samples.length - end,
    strayNonZero,
    endsWithLastFrame,
    complete: matched > 0 && endsWithLastFrame && missing === 0 && gapSamples === 0 && strayNonZero === 0,
  };
}

/**
 * For load-deposit.xml (the caller waits out the greeting and beep with a fixed pause, then plays the pcap `plays`
 * times and ends with "#"): the recording starts at the beep, so on a loaded machine, where the server's greeting
 * ends later than the caller's pause, the first frames of the first play were sent before the beep and are rightly
 * not recorded. Complete means what checkRecordingTail says (one contiguous run of frames ending with the last, no
 * frame missing and no silence inserted inside, only silence around) and that at most the first play was cut:
 * every later play is whole. `lateStartFrames` is how many frames of the first play were sent before the beep.
 * @param {Int16Array} samples  the stored recording
 * @param {Int16Array[]} frames  expectedFrames(pcap, plays)
 * @param {number} plays
 * @returns {ReturnType<typeof checkRecordingTail> & { lateStartFrames: number, wholePlays: number }}
 */
function checkDeposit(samples, frames, plays) {
  const tail = checkRecordingTail(samples, frames);
  const perPlay = frames.length / plays;
  const wholePlays = Math.floor(tail.kept / perPlay);
  const lateStartFrames = tail.firstFrame;
  return { ...tail, lateStartFrames, wholePlays, complete: tail.complete && lateStartFrames < perPlay };
}

/**
 * Every stored message of a répondeur SQLite database, with its decoded samples.
 * @param {string} dbPath
 * @returns {{ id: string, line: string, durationMs: number, samples: Int16Array }[]}
 */
function storedMessages(dbPath) {
  const Database = require('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT id, line, duration_ms AS durationMs, audio FROM messages')
      .all()
      .map((r) => ({ id: r.id, line: r.line, durationMs: r.durationMs, samples: wavSamples(r.audio) }));
  } finally {
    db.close();
  }
}

module.exports = { readPcapRtp, expectedFrames, wavSamples, checkRecording, checkRecordingTail, checkDeposit, storedMessages };
