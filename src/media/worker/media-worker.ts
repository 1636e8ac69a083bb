/**
 * Entry of a media worker thread: owns the RTP sessions of its share of the port range — their sockets, its own
 * pacing scheduler (this thread's `sharedPacingScheduler`), prompt players, recorders writing the spool files, and
 * DTMF detection (RFC 4733 events and in-band tones, inside {@link RtpSession}) — and answers the main thread's
 * commands (protocol.ts). Started by {@link MediaWorkerPool}; never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RtpPortAllocator, PortsExhaustedError } from '../port-allocator.js';
import { RtpSession } from '../rtp-session.js';
import { RtpRecorder, type RtpAudioSink } from '../recorder.js';
import { sharedPacingScheduler } from '../pacer.js';
import { rtpPacketTotals } from '../rtp-counters.js';
import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';
import { FromWorker, ToWorker, type FromWorkerMessage, type ToWorkerMessage, type WorkerInit } from './protocol.js';
import { RecordingProgressSlots, epochNowMs } from './progress-slots.js';
import { RecentAudioPackets } from './recent-audio.js';

/** How often the worker reports its counters (metrics, `GET /api/v1/metrics`). */
const LOAD_REPORT_MS = 250;
/**
 * A recording asked for within this long after a prompt ended starts at the end of that prompt (the flows record
 * right after their beep): the packets received since are replayed into it (recent-audio.ts).
 */
const RECORD_AFTER_PROMPT_MS = 1000;
/**
 * After a hang-up the caller sends nothing more: a worker running behind (descheduled on a loaded machine) first
 * reads what is still queued in the session's socket, until no packet came for QUIET_MS, at most MAX_DRAIN_MS.
 */
const HANGUP_QUIET_MS = 100;
const HANGUP_MAX_DRAIN_MS = 2000;
const DRAIN_CHECK_MS = 20;

interface WorkerSession {
  readonly rtp: RtpSession;
  readonly plays: Map<number, AbortController>;
  recorder: RtpRecorder | null;
  /** Receives the audio while nothing records. */
  readonly recent: RecentAudioPackets;
  /** When the last prompt ended (epoch clock), or −Infinity. */
  lastPlayEndedAt: number;
  /** When the last audio packet was recorded (performance.now() of this thread). */
  lastRecordedAt: number;
}

if (!parentPort) throw new Error('media-worker.ts runs as a worker thread (MediaWorkerPool starts it)');
const port = parentPort;
const init = workerData as WorkerInit;
const allocator = new RtpPortAllocator(init.portMin, init.portMax);
const progress = new RecordingProgressSlots(init.progress, init.portMin);
const sessions = new Map<number, WorkerSession>();

function post(message: FromWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function errorInfo(err: unknown): { message: string; code?: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  return code === undefined ? { message: e.message } : { message: e.message, code };
}

async function open(sid: number, host: string, recvBufferSize: number, sendBufferSize: number): Promise<void> {
  let rtp: RtpSession;
  try {
    rtp = await RtpSession.open(allocator, { host, recvBufferSize, sendBufferSize });
  } catch (err) {
    post({ op: FromWorker.OpenFailed, sid, exhausted: err instanceof PortsExhaustedError, message: errorInfo(err).message });
    return;
  }
  rtp.on('dtmf', ({ digit, source }) => post({ op: FromWorker.Dtmf, sid, digit, source }));
  const recent = new RecentAudioPackets();
  rtp.attachRecorder(recent);
  sessions.set(sid, { rtp, plays: new Map(), recorder: null, recent, lastPlayEndedAt: -Infinity, lastRecordedAt: -Infinity });
  post({ op: FromWorker.Opened, sid, port: rtp.port });
}

/**
 * Feeds the recorder and publishes its progress in the port's shared slot after each packet. The recorder runs on
 * the system clock (this thread's performance.now()), so its last-voice instant goes on the shared epoch clock by
 * adding the thread's time origin: one clock read per packet here, not one per figure.
 */
function progressSink(s: WorkerSession, recorder: RtpRecorder, rtpPort: number): RtpAudioSink {
  return {
    pushRtp(seq, timestamp, ssrc, payloadType, payload) {
      s.lastRecordedAt = performance.now();
      recorder.pushRtp(seq, timestamp, ssrc, payloadType, payload);
      progress.write(rtpPort, recorder.samples, Math.round((recorder.voiceMs * SAMPLE_RATE) / 1000), performance.timeOrigin + recorder.lastVoiceAt);
    },
  };
}

function startRecording(sid: number, s: WorkerSession, path: string, flushMs: number, requestedAt: number): void {
  const recorder = RtpRecorder.start({ path, flushMs });
  s.recorder = recorder;
  const sink = progressSink(s, recorder, s.rtp.port);
  // Right after a prompt (the beep), the recording starts where that prompt ended, as it would on the SIP thread.
  const since = requestedAt - s.lastPlayEndedAt <= RECORD_AFTER_PROMPT_MS ? s.lastPlayEndedAt : requestedAt;
  s.recent.replayInto(sink, since);
  s.rtp.attachRecorder(sink);
  recorder.ready.then(
    () => post({ op: FromWorker.RecordingReady, sid }),
    (err: unknown) => post({ op: FromWorker.RecordingReady, sid, error: errorInfo(err) }),
  );
}

async function finishRecording(sid: number, s: WorkerSession): Promise<void> {
  const recorder = s.recorder;
  if (recorder === null) throw new Error('no recording in progress');
  s.recent.clear();
  s.rtp.attachRecorder(s.recent);
  s.recorder = null;
  const result = await recorder.finish();
  // Transfer the WAV's memory when the Buffer owns all of it; a slice of a pooled buffer is copied first.
  const own = result.wav.byteOffset === 0 && result.wav.byteLength === result.wav.buffer.byteLength && result.wav.buffer instanceof ArrayBuffer;
  const wav = own ? new Uint8Array(result.wav.buffer as ArrayBuffer) : new Uint8Array(result.wav);
  post(
    {
      op: FromWorker.RecordingFinished,
      sid,
      path: result.path,
      samples: result.samples,
      durationMs: result.durationMs,
      wav,
      ...(result.spoolWriteError ? { spoolWriteError: errorInfo(result.spoolWriteError) } : {}),
      ...(result.unwrittenSamples ? { unwrittenSamples: result.unwrittenSamples } : {}),
    },
    [wav.buffer as ArrayBuffer],
  );
}

/** Runs `then` once the audio queued for the session before now has been read (see HANGUP_QUIET_MS). */
function afterQueuedAudio(s: WorkerSession, callerHungUp: boolean, then: () => void): void {
  if (!callerHungUp) {
    setImmediate(then);
    return;
  }
  const giveUpAt = performance.now() + HANGUP_MAX_DRAIN_MS;
  const check = (): void => {
    const now = performance.now();
    if (now - s.lastRecordedAt >= HANGUP_QUIET_MS || now >= giveUpAt || s.recorder === null) setImmediate(then);
    else setTimeout(check, DRAIN_CHECK_MS);
  };
  // Not judged at once: a worker that just woke up may read this command before the sockets it has yet to read.
  setTimeout(check, DRAIN_CHECK_MS);
}

function close(sid: number, s: WorkerSession): void {
  sessions.delete(sid);
  s.recorder = null;
  const packetsLost = s.rtp.packetsLost;
  const packetsSent = s.rtp.player.packetsSent;
  s.rtp.close();
  // The counters first, on the same port: once the main thread has the Closed, its totals count this call's packets.
  reportLoad();
  post({ op: FromWorker.Closed, sid, stats: { packetsReceived: s.rtp.stats.packetsReceived, packetsLost, packetsSent } });
}

function handle(m: ToWorkerMessage): void {
  if (m.op === ToWorker.Open) {
    void open(m.sid, m.host, m.recvBufferSize, m.sendBufferSize);
    return;
  }
  const s = sessions.get(m.sid);
  if (s === undefined) return; // closed meanwhile
  switch (m.op) {
    case ToWorker.Configure:
      s.rtp.configure(m.format);
      return;
    case ToWorker.Remote:
      s.rtp.setRemote(m.address, m.port);
      return;
    case ToWorker.Held:
      s.rtp.setHeld(m.on);
      return;
    case ToWorker.FillPauses:
      s.rtp.fillPauses(m.on);
      return;
    case ToWorker.Play: {
      const abort = new AbortController();
      s.plays.set(m.pid, abort);
      const pid = m.pid;
      s.rtp.play(m.segments, { signal: abort.signal }).then(
        (outcome) => {
          s.plays.delete(pid);
          s.lastPlayEndedAt = epochNowMs();
          post({ op: FromWorker.Played, sid: m.sid, pid, outcome });
        },
        (err: unknown) => {
          s.plays.delete(pid);
          post({ op: FromWorker.SessionError, sid: m.sid, message: `play: ${errorInfo(err).message}` });
          post({ op: FromWorker.Played, sid: m.sid, pid, outcome: 'aborted' });
        },
      );
      return;
    }
    case ToWorker.Abort:
      s.plays.get(m.pid)?.abort();
      return;
    case ToWorker.Record:
      startRecording(m.sid, s, m.path, m.flushMs, m.requestedAt);
      return;
    case ToWorker.FinishRecording:
      // Packets that were already in the sockets when this command arrived belong to the recording (they came
      // before the hang-up that ended it): the check phase runs after this loop iteration has read every readable
      // socket, so finish there rather than now.
      afterQueuedAudio(s, m.callerHungUp, () => {
        finishRecording(m.sid, s).catch((err: unknown) => post({ op: FromWorker.RecordingFailed, sid: m.sid, message: errorInfo(err).message }));
      });
      return;
    case ToWorker.Close:
      close(m.sid, s);
      return;
  }
}

port.on('message', (m: ToWorkerMessage) => {
  try {
    handle(m);
  } catch (err) {
    post({ op: FromWorker.SessionError, sid: m.sid, message: errorInfo(err).message });
  }
});

function reportLoad(): void {
  const stats = sharedPacingScheduler.stats;
  post({
    op: FromWorker.Load,
    load: {
      sessions: sessions.size,
      rtp: { ...rtpPacketTotals },
      pacing: { histogram: stats.histogram.slice(), runs: stats.runs, sumLatenessMs: stats.sumLatenessMs, maxLatenessMs: stats.maxLatenessMs, pendingJobs: sharedPacingScheduler.size },
    },
  });
}

const loadTimer = setInterval(reportLoad, LOAD_REPORT_MS);
loadTimer.unref();
