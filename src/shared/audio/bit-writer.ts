/** MSB-first bit writer over a growable byte array (what FLAC frames are made of). */
export class BitWriter {
  #bytes: Uint8Array;
  #length = 0; // whole bytes written
  #accumulator = 0; // pending bits, right-aligned
  #pending = 0; // number of pending bits (< 8 between calls)

  constructor(initialBytes = 4096) {
    this.#bytes = new Uint8Array(initialBytes);
  }

  /** Bytes written so far (call after byteAlign to include every bit). */
  get byteLength(): number {
    return this.#length;
  }

  /** Writes the low `bits` bits of `value` (0 ≤ bits ≤ 32); negative values are written in two's complement. */
  write(value: number, bits: number): void {
    if (bits > 24) {
      this.write(Math.floor(value / 0x10000) & 0xffff, bits - 16);
      this.write(value & 0xffff, 16);
      return;
    }
    this.#accumulator = (this.#accumulator << bits) | (value & ((1 << bits) - 1));
    this.#pending += bits;
    while (this.#pending >= 8) {
      this.#pending -= 8;
      this.#pushByte((this.#accumulator >>> this.#pending) & 0xff);
    }
    this.#accumulator &= (1 << this.#pending) - 1;
  }

  /** Writes `count` zero bits then a one (unary code of `count`). */
  writeUnary(count: number): void {
    while (count >= 16) {
      this.write(0, 16);
      count -= 16;
    }
    this.write(1, count + 1);
  }

  /** Pads with zero bits up to the next byte boundary. */
  byteAlign(): void {
    if (this.#pending > 0) this.write(0, 8 - this.#pending);
  }

  /** The bytes from `start` to the current (byte-aligned) end, as a view. */
  view(start = 0): Uint8Array {
    return this.#bytes.subarray(start, this.#length);
  }

  /** Writes a whole byte buffer (the writer must be byte-aligned). */
  writeBytes(bytes: Uint8Array): void {
    for (const byte of bytes) this.#pushByte(byte);
  }

  #pushByte(byte: number): void {
    if (this.#length === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.#length++] = byte;
  }
}

const CRC8_TABLE = makeTable(0x07, 8);
const CRC16_TABLE = makeTable(0x8005, 16);

function makeTable(polynomial: number, width: 8 | 16): Uint16Array {
  const table = new Uint16Array(256);
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << (width - 8);
    for (let bit = 0; bit < 8; bit++) crc = crc & top ? ((crc << 1) ^ polynomial) & mask : (crc << 1) & mask;
    table[byte] = crc;
  }
  return table;
}

/** CRC-8, polynomial x^8 + x^2 + x^1 + x^0, initialised with 0 (the FLAC frame header CRC). */
export function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = CRC8_TABLE[crc ^ byte]!;
  return crc;
}

/** CRC-16, polynomial x^16 + x^15 + x^2 + x^0, initialised with 0, MSB first (the FLAC frame footer CRC). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[(crc >> 8) ^ byte]!;
  return crc;
}
