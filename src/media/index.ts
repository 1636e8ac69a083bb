/**
 * Media layer of répondeur: everything between a UDP port and 8 kHz PCM. Imports nothing from sip/ivr/store.
 *
 * Typical call flow:
 * ```ts
 * const ports = new RtpPortAllocator(10000, 20000);                 // one per process
 * const session = await RtpSession.open(ports, { host: '0.0.0.0' });  // one per call; session.port goes in the SDP
 * session.setRemote(sdpAddress, sdpPort);                            // symmetric RTP re-latches on the first packet
 * session.configure({ codec: 'PCMA', payloadType: 8, ptimeMs: 20, telephoneEventPayloadTypes: [101] });
 * session.on('dtmf', ({ digit }) => abort.abort());                  // RFC 4733, or in-band when no PT declared
 * await session.play(decodeWav(buf).samples, { signal: abort.signal }); // decodeWav: shared/audio/wav.ts
 * const rec = await RtpRecorder.create({ path: '/spool/x.wav' });
 * session.attachRecorder(rec);  … rec.msSinceVoice …  const { durationMs } = await rec.finish();
 * session.close();
 * ```
 * Calls use it through the MediaSession interface (media-session.ts): `LocalMediaSessions` opens RtpSessions
 * on this thread, `MediaWorkerPool` in media worker threads (src/media/worker/, config `media.workers`).
 * After a crash, `recoverSpooledWav(path)` makes a half-written spool WAV valid again.
 * SIP INFO DTMF bodies go through `parseDtmfInfoBody(contentType, body)`.
 * `session.fillPauses(true)` keeps the stream going with G.711 silence / CN between prompts; `setHeld()` on hold.
 * `sharedPacingScheduler.stats.snapshot()` gives the send-lateness histogram of all prompts.
 * `rtpPacketTotals` holds the process-wide RTP packet counters (received, sent, sent late, lost), plain integers.
 */
export {
  type G711Codec,
  PCMU_PAYLOAD_TYPE,
  PCMA_PAYLOAD_TYPE,
  codecOfStaticPayloadType,
  decodeG711,
  decodeG711Into,
  encodeG711,
  encodeG711Into,
} from './g711.js';
export { type ToneOptions, DTMF_FREQUENCIES, beep, concatPcm, dtmfTone, multiTone, silence } from './tones.js';
export { PortsExhaustedError, RtpPortAllocator } from './port-allocator.js';
export { RTP_HEADER_BYTES, RtpHeaderView, type RtpParseResult, parseRtp, seqDelta, tsDelta, writeRtpHeader } from './rtp-packet.js';
export { LATE_SEND_THRESHOLD_MS, type RtpPacketTotals, rtpPacketTotals } from './rtp-counters.js';
export { RtpSequenceTracker } from './rtp-sequence.js';
export { type PacedJob, PacingScheduler, PacingStats, type PacingStatsSnapshot, sharedPacingScheduler } from './pacer.js';
export { type PcmSource, type PlayOptions, type PlaybackFormat, PromptPlayer } from './player.js';
export { DEFAULT_COMFORT_NOISE_LEVEL_DBOV, type SilenceFormat, SilencePacketSource, g711SilencePayload } from './silence.js';
export {
  type DtmfEvent,
  type MediaFormat,
  MediaFormatSchema,
  RtpSession,
  type RtpSessionEvents,
  type RtpSessionOptions,
  RtpSessionOptionsSchema,
  type RtpSessionStats,
} from './rtp-session.js';
export {
  type RecorderStats,
  type RecordingResult,
  type RtpAudioSink,
  RtpRecorder,
  type RtpRecorderOptions,
  RtpRecorderOptionsSchema,
} from './recorder.js';
export {
  type RecoveredWav,
  WavSpoolWriter,
  isSpoolFormatWav,
  recoverSpooledWav,
  setWavDataBytes,
  spoolWavSamples,
  truncateSpoolWav,
} from './wav-spool.js';
export { GoertzelDtmfDetector, type GoertzelOptions, Rfc4733Receiver, dtmfKeyOfEvent, parseDtmfInfoBody } from './dtmf.js';
export {
  type MediaLostEvent,
  type MediaSession,
  type MediaSessionEvents,
  type MediaSessionFactory,
  type RecordingHandle,
  type RecordingOptions,
} from './media-session.js';
export { LocalMediaSession, LocalMediaSessions } from './local-media.js';
export { MediaWorkerPool, type MediaWorkerPoolOptions, splitPortRange } from './worker/media-worker-pool.js';
export { MediaWorkerLostError, WorkerMediaSession } from './worker/worker-session.js';
