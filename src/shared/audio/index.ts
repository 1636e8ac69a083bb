export { decodeAudio } from './decode.js';
export { encodeAudio } from './encode.js';
export { durationMs, resample, toTelephonyPcm } from './resample.js';
export {
  AUDIO_FORMAT_INFO,
  AUDIO_FORMATS,
  AudioFormatError,
  AudioTooLongError,
  isAudioFormat,
  type AudioFormat,
  type DecodedAudio,
  type EncodedAudio,
} from './types.js';
