/**
 * Port layout of the test suite. Every fixed port a test uses lies below the OS's ephemeral range (Linux:
 * 32768–60999), so that no socket the OS hands out (SIP/API port 0, SIPp's and the test UAs' own sockets) can ever
 * take one, and each jest worker gets a slot of its own so that parallel test files never share a port.
 *
 * `REPONDEUR_TEST_SLOT` (0–7, default 0) is the slot of jest worker 1; worker 2 takes the next one. Test runs side
 * by side on one machine (say, two checkouts) pick slots apart: `npm test` uses 0 and 1, a `--runInBand` run on
 * slot 5 uses 5 alone.
 *
 * Slot s (0–7) owns 3000 ports from 8000 + 3000·s:
 *   +0    … +199   SIPp's SIP ports (one per SIPp run, cycling)
 *   +200  … +799   SIPp's media ports (-mp; SIPp uses a few ports from there up: 10 per run)
 *   +800  … +2959  six RTP ranges of 360 ports for the servers a test file starts (180 calls each)
 */
export const WORKER = Math.max(1, Number(process.env.JEST_WORKER_ID ?? '1'));
const RUN_SLOT = Math.min(7, Math.max(0, Number(process.env.REPONDEUR_TEST_SLOT ?? '0') || 0));
const SLOT = (RUN_SLOT + ((WORKER - 1) % 2)) % 8;
const BASE = 8000 + SLOT * 3000;

let nextSipp = 0;
/** SIPp's own SIP and media ports for its next run. */
export function sippPorts(): { sip: number; media: number } {
  const i = nextSipp++;
  return { sip: BASE + (i % 200), media: BASE + 200 + (i % 60) * 10 };
}

let nextRtpBlock = 0;
/** An RTP range for the next server this test file starts. */
export function rtpBlock(): { rtpMin: number; rtpMax: number } {
  const n = nextRtpBlock++ % 6;
  const rtpMin = BASE + 800 + n * 360;
  return { rtpMin, rtpMax: rtpMin + 358 };
}

/** A fixed port of this slot for a SIP proxy a test runs in front of its servers (Kamailio): past the RTP ranges. */
export function proxyPort(): number {
  return BASE + 2990;
}
