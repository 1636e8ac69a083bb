import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** 2.5 s of a 440 Hz tone at about -8 dBFS followed by 0.5 s of silence, 8 kHz mono. */
export function toneThenSilence(rate = 8000, toneSeconds = 2.5, silenceSeconds = 0.5, frequency = 440): Int16Array {
  const toneSamples = Math.round(rate * toneSeconds);
  const pcm = new Int16Array(toneSamples + Math.round(rate * silenceSeconds));
  for (let i = 0; i < toneSamples; i++) pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * frequency * i) / rate));
  return pcm;
}

/** Goertzel power of `frequency` in `samples[from, to)` normalised by length (≈ amplitude² / 4 for a pure tone). */
export function goertzel(samples: ArrayLike<number>, rate: number, frequency: number, from = 0, to = samples.length): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = samples[i]! + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = to - from;
  return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / (n * n);
}

/** Root mean square of `samples[from, to)`. */
export function rms(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

export const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
if (!hasFfmpeg) {
  process.stderr.write('formats tests: ffmpeg is not installed — the ffmpeg cross-checks are SKIPPED (apt-get install ffmpeg)\n');
}

function runFfmpeg(args: string[]): Buffer {
  const run = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr.toString()}`);
  return run.stdout;
}

function inScratchDir<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'repondeur-formats-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Decodes a file with ffmpeg to 8 kHz mono signed 16-bit samples. */
export function ffmpegDecodeToPcm(extension: string, data: Buffer): Int16Array {
  return inScratchDir((dir) => {
    const file = path.join(dir, `in.${extension}`);
    writeFileSync(file, data);
    const raw = runFfmpeg(['-i', file, '-f', 's16le', '-ac', '1', '-ar', '8000', '-']);
    return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  });
}

/**
 * Makes a file with ffmpeg from a lavfi source, e.g. `sine=frequency=440:sample_rate=44100:duration=2`,
 * with the output options given (codec, sample format, channels) and the container implied by `extension`.
 */
export function ffmpegMakeFile(source: string, extension: string, outputOptions: string[]): Buffer {
  return inScratchDir((dir) => {
    const file = path.join(dir, `out.${extension}`);
    runFfmpeg(['-f', 'lavfi', '-i', source, ...outputOptions, file]);
    return readFileSync(file);
  });
}
