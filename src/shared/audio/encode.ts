import { z } from 'zod';
import { encodeAiff } from './aiff.js';
import { encodeAu } from './au.js';
import { FlacEncoder } from './flac-encoder.js';
import { buildInfoTagFrame, parseMpegFrameHeader } from './mpeg-audio.js';
import { resample } from './resample.js';
import { AUDIO_FORMAT_INFO, AUDIO_FORMATS, AudioFormatError, type AudioFormat, type EncodedAudio } from './types.js';
import { encodeMp3Wasm, encodeVorbisWasm } from './wasm-codecs.js';
import { encodeWav } from './wav.js';
import { SAMPLE_RATE } from './sample-rate.js';

const EncodeOptions = z.object({
  sampleRate: z.number().int().min(1000).max(192_000),
  format: z.enum(AUDIO_FORMATS),
});

/** Sample rates MPEG-1/2/2.5 Layer III can carry. */
const MP3_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/** Vorbis quality for speech: about 14 kbit/s at 8 kHz, comfortably intelligible. */
const VORBIS_QUALITY = 3;

/**
 * Encodes mono 16-bit PCM as a file of `format`, in-process (no ffmpeg, sox or lame needed):
 * WAV/AU/AIFF are written directly, FLAC by our own encoder, MP3 by LAME and Ogg Vorbis by libvorbis (WASM).
 */
export async function encodeAudio(pcm: Int16Array, sampleRate: number, format: AudioFormat): Promise<EncodedAudio> {
  if (!(pcm instanceof Int16Array)) throw new AudioFormatError('encodeAudio: pcm must be an Int16Array');
  const options = EncodeOptions.safeParse({ sampleRate, format });
  if (!options.success) {
    throw new AudioFormatError(`encodeAudio: ${options.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const data = await encodeData(pcm, sampleRate, options.data.format);
  return { data, ...AUDIO_FORMAT_INFO[options.data.format] };
}

async function encodeData(pcm: Int16Array, sampleRate: number, format: AudioFormat): Promise<Buffer> {
  switch (format) {
    case 'wav':
      return encodeWav(pcm, sampleRate);
    case 'au':
      return encodeAu(pcm, sampleRate);
    case 'aiff':
      return encodeAiff(pcm, sampleRate);
    case 'flac':
      return new FlacEncoder(sampleRate).encode(pcm);
    case 'mp3':
      return encodeMp3(pcm, sampleRate);
    case 'ogg':
      return encodeVorbisWasm(toFloat(pcm), sampleRate, VORBIS_QUALITY);
  }
}

/**
 * MP3 at the message's own rate when MPEG allows it (8 kHz is MPEG-2.5), else resampled to 8 kHz; LAME's CBR
 * stream is prefixed with an "Info" tag giving its encoder delay and padding so that decoders play exactly
 * the samples we encoded.
 */
async function encodeMp3(pcm: Int16Array, sampleRate: number): Promise<Buffer> {
  let samples = toFloat(pcm);
  let rate = sampleRate;
  if (!MP3_RATES.includes(rate)) {
    samples = resample(samples, rate, SAMPLE_RATE);
    rate = SAMPLE_RATE;
  }
  const bitrate = rate <= 8000 ? 24 : rate <= 16000 ? 32 : rate <= 24000 ? 48 : 64;
  const stream = await encodeMp3Wasm(samples, rate, bitrate);
  const first = parseMpegFrameHeader(stream, 0);
  if (!first) throw new AudioFormatError('MP3: the encoder produced no frame');
  const frames = countFrames(stream);
  // LAME delays its output by 576 samples (ENCDELAY) and pads the last frame; the Info tag records both.
  const delay = 576;
  const padding = Math.max(0, frames * first.samplesPerFrame - samples.length - delay);
  const tag = buildInfoTagFrame(stream, stream.length, { frames, delay, padding });
  return Buffer.concat([tag, stream]);
}

function countFrames(stream: Buffer): number {
  let frames = 0;
  for (let at = 0; at < stream.length; frames++) {
    const header = parseMpegFrameHeader(stream, at);
    if (!header) break;
    at += header.frameBytes;
  }
  return frames;
}

function toFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / 32768;
  return out;
}
