/** The six attachment formats a mailbox may choose for its voicemail e-mails. */
export const AUDIO_FORMATS = ['aiff', 'au', 'flac', 'mp3', 'ogg', 'wav'] as const;

export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** MIME type and file extension of each format, as put on the e-mail attachment. */
export const AUDIO_FORMAT_INFO: Readonly<Record<AudioFormat, { mimeType: string; extension: string }>> = {
  aiff: { mimeType: 'audio/aiff', extension: 'aiff' },
  au: { mimeType: 'audio/basic', extension: 'au' },
  flac: { mimeType: 'audio/flac', extension: 'flac' },
  mp3: { mimeType: 'audio/mpeg', extension: 'mp3' },
  ogg: { mimeType: 'audio/ogg', extension: 'ogg' },
  wav: { mimeType: 'audio/wav', extension: 'wav' },
};

/** One encoded file, ready to attach. */
export interface EncodedAudio {
  data: Buffer;
  mimeType: string;
  extension: string;
}

/** Decoded audio: `samples` are interleaved, in [-1, 1], `samples.length === frames * channels`. */
export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/** Thrown for input that is not audio we can read (or options we cannot encode). */
export class AudioFormatError extends Error {
  override readonly name = 'AudioFormatError';
}

/** Thrown when decoding passes the caller's duration limit (decoding stops there: see decodeAudio's `maxSeconds`). */
export class AudioTooLongError extends Error {
  override readonly name = 'AudioTooLongError';
  constructor(readonly seconds: number) {
    super(`the audio lasts more than ${Math.round(seconds)} s`);
  }
}

/** Type guard for the format names above (for callers validating user input). */
export function isAudioFormat(value: unknown): value is AudioFormat {
  return typeof value === 'string' && (AUDIO_FORMATS as readonly string[]).includes(value);
}
