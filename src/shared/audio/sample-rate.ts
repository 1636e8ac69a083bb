/**
 * The one sample rate of the telephone audio path: G.711 narrowband (RFC 3551 §4.5.14, "PCMU/8000", "PCMA/8000").
 * Every prompt, greeting, recording and stored message is 16-bit PCM at this rate; uploads are resampled to it.
 */
export const SAMPLE_RATE = 8000;
