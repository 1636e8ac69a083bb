/** Types of adversarial-sip.js (plain CommonJS shared by `npm run bench:parser` and the parser tests). */
export interface AdversarialDatagram {
  name: string;
  bytes: Buffer;
  /** Prefix of the outcome of parse + SDP reading: `parsed`, `sdp ok`, `sdp 488…`, `body 400…`, `400 …`, `513 …`. */
  expect: string;
}
export const ADVERSARIAL_DATAGRAMS: readonly AdversarialDatagram[];
export const ORDINARY_DATAGRAMS: readonly AdversarialDatagram[];
export const ORDINARY_INVITE: Buffer;
export const HEAD_LIMIT: number;
