/** Types of recording-check.js (plain CommonJS shared by `npm run bench` and test/load). */
export interface PcapRtpPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  payload: Buffer;
}
export interface RecordingCheck {
  frames: number;
  matched: number;
  missing: number;
  leadingSilence: number;
  trailingSilence: number;
  strayNonZero: number;
  complete: boolean;
}
export interface RecordingTailCheck {
  frames: number;
  /** Index of the first expected frame kept (frames.length when none). */
  firstFrame: number;
  /** Frames from firstFrame to the last one. */
  kept: number;
  matched: number;
  /** Frames absent between the first kept frame and the last expected one (absent final frames included). */
  missing: number;
  /** Zero samples inserted inside the kept part. */
  gapSamples: number;
  leadingSilence: number;
  trailingSilence: number;
  strayNonZero: number;
  endsWithLastFrame: boolean;
  complete: boolean;
}
export interface StoredMessageAudio {
  id: string;
  line: string;
  durationMs: number;
  samples: Int16Array;
}
/** RTP packets of an Ethernet/IPv4/UDP pcap, in file order. */
export function readPcapRtp(path: string): PcapRtpPacket[];
/** Decoded G.711 payloads of the pcap, `plays` times over. */
export function expectedFrames(pcapPath: string, plays: number): Int16Array[];
/** Samples of a 16-bit PCM WAV. */
export function wavSamples(bytes: Uint8Array): Int16Array;
/** Walks the expected frames through a recording: matched, missing, silence around, stray samples. */
export function checkRecording(samples: Int16Array, frames: Int16Array[]): RecordingCheck;
/** A recording ended by the caller's BYE: one contiguous suffix of the frames, ending with the last, only silence around. */
export function checkRecordingTail(samples: Int16Array, frames: Int16Array[]): RecordingTailCheck;
/** Every message of a répondeur SQLite store with its decoded audio. */
export function storedMessages(dbPath: string): StoredMessageAudio[];
export interface DepositCheck extends RecordingTailCheck {
  /** Frames of the first play sent before the beep (not recorded, rightly). */
  lateStartFrames: number;
  wholePlays: number;
}
/** load-deposit.xml: checkRecordingTail, and only the first play may be cut at its start (sent before the beep). */
export function checkDeposit(samples: Int16Array, frames: Int16Array[], plays: number): DepositCheck;
