import { describe, expect, test } from '@jest/globals';
import { decodeG711, encodeG711 } from '../../src/media/g711.js';
import { GoertzelDtmfDetector, Rfc4733Receiver, parseDtmfInfoBody } from '../../src/media/dtmf.js';
import { concatPcm, dtmfTone, silence } from '../../src/media/tones.js';

function eventPayload(event: number, end: boolean, duration: number): Uint8Array {
  return Uint8Array.from([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
}

/** Packets as SIPp's dtmf_2833 pcaps send them: 7 progress packets then 3 identical end packets. */
function keyPress(event: number, ts: number): Uint8Array[] {
  const progress = Array.from({ length: 7 }, (_, i) => eventPayload(event, false, (i + 1) * 160));
  const endPkt = eventPayload(event, true, 1280);
  return [...progress, endPkt, endPkt, endPkt];
}

describe('Rfc4733Receiver', () => {
  test('each key press is reported once despite progress and end retransmissions', () => {
    const rx = new Rfc4733Receiver();
    const got: string[] = [];
    const keys = [1, 1, 10, 11, 0, 15];
    keys.forEach((ev, k) => {
      for (const p of keyPress(ev, 8000 + k * 4000)) {
        const d = rx.push(0xabc, 8000 + k * 4000, p);
        if (d) got.push(d);
      }
    });
    expect(got).toEqual(['1', '1', '*', '#', '0', 'D']);
  });
  test('late end packets of the previous digit after a new one started are ignored', () => {
    const rx = new Rfc4733Receiver();
    expect(rx.push(1, 100, eventPayload(5, false, 160))).toBe('5');
    expect(rx.push(1, 900, eventPayload(6, false, 160))).toBe('6');
    expect(rx.push(1, 100, eventPayload(5, true, 800))).toBeNull();
    expect(rx.push(1, 900, eventPayload(6, true, 800))).toBeNull();
  });
  test('non-DTMF events and short payloads are not digits', () => {
    const rx = new Rfc4733Receiver();
    expect(rx.push(1, 1, eventPayload(16, false, 160))).toBeNull();
    expect(rx.push(1, 2, Uint8Array.from([1, 2]))).toBeNull();
    expect(rx.malformed).toBe(1);
  });
});

describe('parseDtmfInfoBody', () => {
  test('application/dtmf-relay', () => {
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe('5');
    expect(parseDtmfInfoBody('Application/DTMF-Relay; charset=utf-8', 'signal= #\nDuration=100')).toBe('#');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=10\r\nDuration=160')).toBe('*');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Duration=160')).toBeNull();
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=X')).toBeNull();
  });
  test('application/dtmf and other types', () => {
    expect(parseDtmfInfoBody('application/dtmf', '5')).toBe('5');
    expect(parseDtmfInfoBody('application/dtmf', Buffer.from('a\r\n'))).toBe('A');
    expect(parseDtmfInfoBody('text/plain', 'Signal=5')).toBeNull();
  });
});

function detect(pcm: Int16Array, chunk = 160): string[] {
  const got: string[] = [];
  const det = new GoertzelDtmfDetector((d) => got.push(d));
  for (let i = 0; i < pcm.length; i += chunk) det.push(pcm.subarray(i, i + chunk));
  return got;
}

/** Deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('GoertzelDtmfDetector', () => {
  test('detects every key once per press, through A-law, with gaps of 60 ms', () => {
    const keys = '123A456B789C*0#D';
    const pcm = concatPcm([...keys].flatMap((k) => [dtmfTone(k, 80, { amplitude: 6000 }), silence(60)]));
    const law = decodeG711('PCMA', encodeG711('PCMA', pcm));
    expect(detect(law).join('')).toBe(keys);
  });
  test('a held key is reported once; the same key pressed again is reported again', () => {
    const pcm = concatPcm([dtmfTone('5', 600), silence(80), dtmfTone('5', 60)]);
    expect(detect(pcm, 240)).toEqual(['5', '5']);
  });
  test('tones of 50 ms are detected whatever their alignment', () => {
    for (let lead = 0; lead < 110; lead += 11) expect(detect(concatPcm([silence(lead / 8), dtmfTone('9', 50), silence(60)]))).toEqual(['9']);
  });
  test('tolerates 6 dB twist but not a single tone', () => {
    const twisted = concatPcm([dtmfTone('8', 100, { amplitude: 1 }).map((_, i) => Math.round(2000 * Math.sin((2 * Math.PI * 852 * i) / 8000) + 4000 * Math.sin((2 * Math.PI * 1336 * i) / 8000)))]);
    expect(detect(twisted)).toEqual(['8']);
    const single = Int16Array.from({ length: 1600 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 697 * i) / 8000)));
    expect(detect(single)).toEqual([]);
  });
  test('speech-like noise and tones too short or too quiet are not digits', () => {
    const r = rng(7);
    // Noise with a slowly varying envelope and a few harmonics in the DTMF band.
    const speech = Int16Array.from({ length: 8000 * 5 }, (_, i) => {
      const env = 3000 * (1 + Math.sin(i / 700));
      const voiced = Math.sin((2 * Math.PI * 140 * i) / 8000) + 0.5 * Math.sin((2 * Math.PI * 700 * i) / 8000) + 0.3 * Math.sin((2 * Math.PI * 1250 * i) / 8000);
      return Math.round(env * (0.6 * voiced + (r() - 0.5)));
    });
    expect(detect(speech)).toEqual([]);
    const white = Int16Array.from({ length: 8000 * 5 }, () => Math.round((r() - 0.5) * 20000));
    expect(detect(white)).toEqual([]);
    expect(detect(concatPcm([silence(50), dtmfTone('1', 20), silence(50)]))).toEqual([]);
    expect(detect(concatPcm([dtmfTone('1', 100, { amplitude: 100 })]))).toEqual([]);
  });
});
