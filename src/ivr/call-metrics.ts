/** The events the call router reports (implemented with prom-client by the composition root's metrics.ts; the router only sees this interface). */
export interface CallMetricsSink {
  callStarted(kind: 'deposit' | 'dialin'): void;
  callEnded(kind: 'deposit' | 'dialin'): void;
  /** A call refused or failed before or while being set up, by cause (not_found, fax_redirect, no_rtp_port, sdp, error…). */
  callFailed(cause: string): void;
  /** A deposit's outcome: stored, discarded-too-short, hangup-before-beep, not-recorded. */
  depositFinished(outcome: string): void;
  /** How a dial-in authentication ended: login-pin, login-caller-id, refused-too-many-tries, refused-locked. */
  dialInAuth(outcome: string): void;
  /** One wrong line number or PIN typed on a dial-in call. */
  dialInPinFailure(): void;
}
