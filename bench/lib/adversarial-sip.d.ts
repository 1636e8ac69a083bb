/** Types of adversarial-sip.js (plain CommonJS shared by `npm run bench:parser` and the parser tests). */
export interface AdversarialDatagram {
  name: string;
  bytes: Buffer;
}
export const ADVERSARIAL_DATAGRAMS: readonly AdversarialDatagram[];
export const ORDINARY_INVITE: Buffer;
