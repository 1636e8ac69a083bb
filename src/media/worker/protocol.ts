/**
 * The messages between the SIP thread and a media worker: plain structured-clone objects, `op` a small integer,
 * `sid` the session id the main thread gave at `Open`. Nothing per packet crosses: the worker owns the sockets,
 * pacing, recording and DTMF detection; only call-level commands and events do.
 *
 * Prompt PCM is never copied per play: each Int16Array the main thread plays is copied once into a
 * SharedArrayBuffer (cached weakly by the array it came from, src/media/worker/shared-pcm.ts), and a `Play` message
 * carries views on that shared memory, which structured clone passes by reference. Recording progress is not sent
 * either: the worker writes it into a shared slot per port (progress-slots.ts) that the main thread reads when the
 * recording loop asks. The finished WAV comes back as a transferred ArrayBuffer.
 */
import type { ResolvedMediaFormat } from '../rtp-session.js';

/** Main thread → worker. */
export enum ToWorker {
  Open = 1,
  Configure = 2,
  Remote = 3,
  Held = 4,
  FillPauses = 5,
  Play = 6,
  Abort = 7,
  Record = 8,
  FinishRecording = 9,
  Close = 10,
}

/** Worker → main thread. */
export enum FromWorker {
  Opened = 101,
  OpenFailed = 102,
  Dtmf = 103,
  Played = 104,
  RecordingReady = 105,
  RecordingFinished = 106,
  Closed = 107,
  /** Every 250 ms: the worker's RTP counters and pacing histogram (metrics). */
  Load = 108,
  /** A command for a session failed in the worker (logged on the main thread). */
  SessionError = 109,
  /** Finishing the recording failed (its `finish()` rejects). */
  RecordingFailed = 110,
}

export interface WorkerInit {
  /** This worker's share of the RTP port range (inclusive). */
  portMin: number;
  portMax: number;
  /** Recording progress slots, one per even port of the share (progress-slots.ts). */
  progress: SharedArrayBuffer;
}

export type ToWorkerMessage =
  | { op: ToWorker.Open; sid: number; host: string; recvBufferSize: number; sendBufferSize: number }
  | { op: ToWorker.Configure; sid: number; format: ResolvedMediaFormat }
  | { op: ToWorker.Remote; sid: number; address: string; port: number }
  | { op: ToWorker.Held; sid: number; on: boolean }
  | { op: ToWorker.FillPauses; sid: number; on: boolean }
  /** `segments`: views on SharedArrayBuffers (shared, not copied). */
  | { op: ToWorker.Play; sid: number; pid: number; segments: Int16Array[] }
  | { op: ToWorker.Abort; sid: number; pid: number }
  /** `requestedAt`: when the flow asked, on the epoch clock (progress-slots.ts); see recent-audio.ts. */
  | { op: ToWorker.Record; sid: number; path: string; flushMs: number; requestedAt: number }
  /** `callerHungUp`: read what is still queued for the session first (until it has been quiet 100 ms, at most 2 s). */
  | { op: ToWorker.FinishRecording; sid: number; callerHungUp: boolean }
  | { op: ToWorker.Close; sid: number };

export interface SessionCloseStats {
  packetsReceived: number;
  packetsLost: number;
  packetsSent: number;
}

export interface WorkerLoad {
  sessions: number;
  rtp: { received: number; sent: number; sentLate: number; lost: number };
  pacing: { histogram: Uint32Array; runs: number; sumLatenessMs: number; maxLatenessMs: number; pendingJobs: number };
}

export type FromWorkerMessage =
  | { op: FromWorker.Opened; sid: number; port: number }
  | { op: FromWorker.OpenFailed; sid: number; exhausted: boolean; message: string }
  | { op: FromWorker.Dtmf; sid: number; digit: string; source: 'rfc4733' | 'inband' }
  | { op: FromWorker.Played; sid: number; pid: number; outcome: 'completed' | 'aborted' }
  | { op: FromWorker.RecordingReady; sid: number; error?: { message: string; code?: string } }
  | {
      op: FromWorker.RecordingFinished;
      sid: number;
      path: string;
      samples: number;
      durationMs: number;
      /** The WAV's bytes (its ArrayBuffer transferred). */
      wav: Uint8Array;
      spoolWriteError?: { message: string; code?: string };
      unwrittenSamples?: Int16Array;
    }
  | { op: FromWorker.Closed; sid: number; stats: SessionCloseStats }
  | { op: FromWorker.Load; load: WorkerLoad }
  | { op: FromWorker.SessionError; sid: number; message: string }
  | { op: FromWorker.RecordingFailed; sid: number; message: string };
