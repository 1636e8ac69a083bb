import { createHash } from 'node:crypto';
import { BitWriter, crc16, crc8 } from './bit-writer.js';

/** Samples per FLAC block (the reference encoder's default for -5). */
const BLOCK_SIZE = 4096;
const MAX_FIXED_ORDER = 4;
const MAX_PARTITION_ORDER = 8;
/** Largest Rice parameter of the 4-bit parameter coding method (15 is the escape code). */
const MAX_RICE_PARAMETER = 14;

/**
 * A small FLAC encoder for mono 16-bit PCM (RFC 9639): STREAMINFO with the MD5 of the samples, then one frame
 * per 4096-sample block, each coded as CONSTANT, FIXED (order 0–4, the cheapest for that block) with
 * partitioned Rice residuals, or VERBATIM when prediction does not pay.
 */
export class FlacEncoder {
  readonly #sampleRate: number;

  constructor(sampleRate: number) {
    this.#sampleRate = sampleRate;
  }

  encode(pcm: Int16Array): Buffer {
    const writer = new BitWriter(64 + pcm.length * 2);
    // RFC 9639 §6: "A FLAC bitstream consists of the fLaC (i.e., 0x664C6143) marker at the beginning of the stream,
    // followed by a mandatory metadata block (called the streaminfo metadata block)".
    writer.writeBytes(Buffer.from('fLaC', 'latin1'));
    const streamInfoAt = writer.byteLength + 4;
    writer.writeBytes(new Uint8Array(4 + 34)); // metadata block header + STREAMINFO, filled in below
    let minFrame = 0xffffff;
    let maxFrame = 0;
    let frameNumber = 0;
    for (let start = 0; start < pcm.length; start += BLOCK_SIZE, frameNumber++) {
      const frameStart = writer.byteLength;
      this.#writeFrame(writer, pcm.subarray(start, Math.min(start + BLOCK_SIZE, pcm.length)), frameNumber);
      const size = writer.byteLength - frameStart;
      minFrame = Math.min(minFrame, size);
      maxFrame = Math.max(maxFrame, size);
    }
    const out = Buffer.from(writer.view());
    writeStreamInfo(out, streamInfoAt, {
      blockSize: pcm.length === 0 ? 16 : Math.max(16, Math.min(BLOCK_SIZE, pcm.length)),
      minFrame: maxFrame === 0 ? 0 : minFrame,
      maxFrame,
      sampleRate: this.#sampleRate,
      totalSamples: pcm.length,
      // §8.2: "MD5 checksum of the unencoded audio data", samples interleaved, signed, little-endian.
      md5: createHash('md5').update(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest(),
    });
    // The metadata block header: last-block flag, type 0 (STREAMINFO), length 34.
    out.writeUInt32BE((0x80000000 | 34) >>> 0, streamInfoAt - 4);
    return out;
  }

  /**
   * Frame header (§9.1), MSB first:
   * ```
   * | sync 0b11111111111110 (14) | 0 (1) | blocking strategy = 0 fixed (1) |
   * | block size code (4) | sample rate code (4) | channels = 0 mono (4) | bit depth = 0b100 16-bit (3) | 0 (1) |
   * | frame number, UTF-8 coded (8–48) | [block size - 1 (16)] | [sample rate (16)] | CRC-8 (8) |
   * ```
   * then one subframe, zero padding to a byte, and CRC-16 of the whole frame.
   */
  #writeFrame(writer: BitWriter, block: Int16Array, frameNumber: number): void {
    const start = writer.byteLength;
    const rate = sampleRateCode(this.#sampleRate);
    const explicitBlockSize = block.length !== BLOCK_SIZE;
    writer.write(0b11111111111110, 14);
    writer.write(0, 2);
    // §9.1.1: 0b0111 = "Uncommon block size minus 1 stored as a 16-bit number"; 0b1100 = 4096.
    writer.write(explicitBlockSize ? 0b0111 : 0b1100, 4);
    writer.write(rate.code, 4);
    writer.write(0b0000, 4);
    writer.write(0b100, 3);
    writer.write(0, 1);
    writeUtf8Number(writer, frameNumber);
    if (explicitBlockSize) writer.write(block.length - 1, 16);
    if (rate.extraBits > 0) writer.write(rate.extraValue, rate.extraBits);
    writer.write(crc8(writer.view(start)), 8);
    writeSubframe(writer, block);
    writer.byteAlign();
    writer.write(crc16(writer.view(start)), 16);
  }
}

interface StreamInfo {
  blockSize: number;
  minFrame: number;
  maxFrame: number;
  sampleRate: number;
  totalSamples: number;
  md5: Buffer;
}

/**
 * STREAMINFO (§8.2), 34 bytes:
 * ```
 * | min block size (16) | max block size (16) | min frame size (24) | max frame size (24) |
 * | sample rate (20) | channels - 1 (3) | bits per sample - 1 (5) | total samples (36) | MD5 (128) |
 * ```
 */
function writeStreamInfo(out: Buffer, at: number, info: StreamInfo): void {
  out.writeUInt16BE(info.blockSize, at);
  out.writeUInt16BE(info.blockSize, at + 2);
  out.writeUIntBE(info.minFrame, at + 4, 3);
  out.writeUIntBE(info.maxFrame, at + 7, 3);
  // sample rate (20) | channels-1 = 0 (3) | bps-1 = 15 (5) | total samples high 4 bits
  const high = Math.floor(info.totalSamples / 2 ** 32) & 0xf;
  out.writeUInt32BE(((info.sampleRate << 12) | (0 << 9) | (15 << 4) | high) >>> 0, at + 10);
  out.writeUInt32BE(info.totalSamples >>> 0, at + 14);
  info.md5.copy(out, at + 18);
}

function sampleRateCode(rate: number): { code: number; extraBits: number; extraValue: number } {
  const common: Record<number, number> = {
    88200: 0b0001, 176400: 0b0010, 192000: 0b0011, 8000: 0b0100, 16000: 0b0101, 22050: 0b0110,
    24000: 0b0111, 32000: 0b1000, 44100: 0b1001, 48000: 0b1010, 96000: 0b1011,
  };
  const code = common[rate];
  if (code !== undefined) return { code, extraBits: 0, extraValue: 0 };
  // §9.1.2: 0b1101 = "Uncommon sample rate, stored as an unsigned 16-bit number in Hz"; 0b0000 = "taken from streaminfo".
  if (rate < 65536) return { code: 0b1101, extraBits: 16, extraValue: rate };
  return { code: 0b0000, extraBits: 0, extraValue: 0 };
}

/** §9.1.5: the frame number "coded in the same way as UTF-8" (1 to 6 bytes for up to 31 bits). */
function writeUtf8Number(writer: BitWriter, value: number): void {
  if (value < 0x80) {
    writer.write(value, 8);
    return;
  }
  // c continuation bytes carry 6 bits each; the lead byte has c + 1 one bits, a zero, and 6 - c payload bits.
  let continuation = 1;
  while (value >= 2 ** (5 * continuation + 6)) continuation++;
  const prefix = (0xff << (7 - continuation)) & 0xff;
  writer.write(prefix | Math.floor(value / 2 ** (6 * continuation)), 8);
  for (let i = continuation - 1; i >= 0; i--) writer.write(0x80 | (Math.floor(value / 2 ** (6 * i)) & 0x3f), 8);
}

/**
 * Subframe (§9.2): header `0 | type (6) | wasted-bits flag = 0`, where type is 0b000000 CONSTANT,
 * 0b000001 VERBATIM or 0b001ooo FIXED of order ooo.
 */
function writeSubframe(writer: BitWriter, block: Int16Array): void {
  const first = block[0]!;
  if (block.every((sample) => sample === first)) {
    writer.write(0b0_000000_0, 8);
    writer.write(first, 16);
    return;
  }
  const { order, residual } = bestFixedPredictor(block);
  const plan = planRice(residual, block.length, order);
  const fixedBits = 8 + order * 16 + plan.bits;
  if (fixedBits >= 8 + block.length * 16) {
    writer.write(0b0_000001_0, 8);
    for (const sample of block) writer.write(sample, 16);
    return;
  }
  writer.write((0b001000 | order) << 1, 8);
  for (let i = 0; i < order; i++) writer.write(block[i]!, 16);
  writeResidual(writer, residual, order, plan);
}

/**
 * §9.2.5: fixed predictors of order 0–4 ("the prediction is a polynomial of order n through the previous n samples").
 * Picks the order whose residual has the smallest sum of magnitudes.
 */
function bestFixedPredictor(block: Int16Array): { order: number; residual: Int32Array } {
  const maxOrder = Math.min(MAX_FIXED_ORDER, block.length - 1);
  let best: { order: number; residual: Int32Array; cost: number } | undefined;
  for (let order = 0; order <= maxOrder; order++) {
    const residual = new Int32Array(block.length - order);
    let cost = 0;
    for (let i = order; i < block.length; i++) {
      const r = fixedResidual(block, i, order);
      residual[i - order] = r;
      cost += Math.abs(r);
    }
    if (!best || cost < best.cost) best = { order, residual, cost };
  }
  return best!;
}

function fixedResidual(x: Int16Array, i: number, order: number): number {
  switch (order) {
    case 0: return x[i]!;
    case 1: return x[i]! - x[i - 1]!;
    case 2: return x[i]! - 2 * x[i - 1]! + x[i - 2]!;
    case 3: return x[i]! - 3 * x[i - 1]! + 3 * x[i - 2]! - x[i - 3]!;
    default: return x[i]! - 4 * x[i - 1]! + 6 * x[i - 2]! - 4 * x[i - 3]! + x[i - 4]!;
  }
}

interface RicePlan {
  partitionOrder: number;
  parameters: number[];
  bits: number;
}

/** §9.2.7: chooses the partition order and per-partition Rice parameters that minimise the coded size. */
function planRice(residual: Int32Array, blockSize: number, predictorOrder: number): RicePlan {
  let best: RicePlan | undefined;
  for (let partitionOrder = 0; partitionOrder <= MAX_PARTITION_ORDER; partitionOrder++) {
    const partitions = 1 << partitionOrder;
    // "the block size MUST be evenly divisible by the number of partitions" and the first partition must
    // hold more samples than the predictor order.
    if (blockSize % partitions !== 0 || blockSize / partitions <= predictorOrder) break;
    const parameters: number[] = [];
    let bits = 2 + 4; // coding method + partition order
    let from = 0;
    for (let p = 0; p < partitions; p++) {
      const to = (p + 1) * (blockSize / partitions) - predictorOrder;
      const choice = bestRiceParameter(residual, from, to);
      parameters.push(choice.parameter);
      bits += 4 + choice.bits;
      from = to;
    }
    if (!best || bits < best.bits) best = { partitionOrder, parameters, bits };
  }
  return best!;
}

function bestRiceParameter(residual: Int32Array, from: number, to: number): { parameter: number; bits: number } {
  const count = to - from;
  let sum = 0;
  for (let i = from; i < to; i++) sum += zigzag(residual[i]!);
  const mean = count > 0 ? sum / count : 0;
  const guess = mean > 1 ? Math.floor(Math.log2(mean)) : 0;
  let best = { parameter: 0, bits: Infinity };
  for (let k = Math.max(0, guess - 1); k <= Math.min(MAX_RICE_PARAMETER, guess + 1); k++) {
    let bits = count * (k + 1);
    for (let i = from; i < to; i++) bits += zigzag(residual[i]!) >>> k;
    if (bits < best.bits) best = { parameter: k, bits };
  }
  return best;
}

/** Maps signed residuals to unsigned: 0, -1, 1, -2, 2 … → 0, 1, 2, 3, 4 … */
function zigzag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** §9.2.7: `coding method 0b00 (4-bit parameters) | partition order (4) | per partition: parameter (4), Rice codes`. */
function writeResidual(writer: BitWriter, residual: Int32Array, predictorOrder: number, plan: RicePlan): void {
  writer.write(0b00, 2);
  writer.write(plan.partitionOrder, 4);
  const partitions = plan.parameters.length;
  const perPartition = (residual.length + predictorOrder) / partitions;
  let from = 0;
  for (let p = 0; p < partitions; p++) {
    const k = plan.parameters[p]!;
    writer.write(k, 4);
    // "The first partition contains the block size divided by the number of partitions minus the predictor order".
    const to = (p + 1) * perPartition - predictorOrder;
    for (let i = from; i < to; i++) {
      const u = zigzag(residual[i]!);
      writer.writeUnary(u >>> k);
      if (k > 0) writer.write(u & ((1 << k) - 1), k);
    }
    from = to;
  }
}
