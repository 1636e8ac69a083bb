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
/** Every message of a répondeur SQLite store with its decoded audio. */
export function storedMessages(dbPath: string): StoredMessageAudio[];
