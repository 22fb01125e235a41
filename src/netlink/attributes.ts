// Netlink attributes (struct nlattr): 4-byte header {len u16, type u16}, payload, padding to 4.
// Integers are in host byte order, which is little-endian on every platform netctl targets.
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants';

export const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Builds a run of attributes into one buffer; nested() hands its builder the same writer, and
 * the nest's length is set once its children are written. Bytes are stored one by one rather
 * than through Buffer's write methods: this code runs once per request, interpreted more often
 * than optimised, where every call counts (a macvlan create took ~65 µs to encode with a Buffer
 * per header, payload and pad).
 */
export class AttributeWriter {
  /** Zero-filled, so the padding the writer skips over is zero. */
  private buffer = Buffer.alloc(128);
  private length = 0;

  bytes(type: number, payload: Buffer): this {
    const at = this.attribute(type, payload.length);
    payload.copy(this.buffer, at);
    return this;
  }

  u8(type: number, value: number): this {
    this.buffer[this.attribute(type, 1)] = value;
    return this;
  }

  u16(type: number, value: number): this {
    this.store(this.attribute(type, 2), value, 2);
    return this;
  }

  /** Big-endian 16 bits: ports travel in network order even inside netlink. */
  be16(type: number, value: number): this {
    const at = this.attribute(type, 2);
    this.buffer[at] = (value >>> 8) & 0xff;
    this.buffer[at + 1] = value & 0xff;
    return this;
  }

  u32(type: number, value: number): this {
    this.store(this.attribute(type, 4), value >>> 0, 4);
    return this;
  }

  i32(type: number, value: number): this {
    this.store(this.attribute(type, 4), value | 0, 4);
    return this;
  }

  /** A NUL-terminated string, as the kernel's NLA_STRING/NLA_NUL_STRING policies expect. */
  string(type: number, value: string): this {
    const size = Buffer.byteLength(value);
    const at = this.attribute(type, size + 1);
    this.buffer.write(value, at, size, 'utf8');
    return this;
  }

  nested(type: number, build: (children: AttributeWriter) => void): this {
    const header = this.length;
    this.attribute(type | NLA_F_NESTED, 0);
    build(this);
    this.store(header, this.length - header, 2);
    return this;
  }

  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Appends an attribute's header and room for its payload (padded); returns where the payload goes. */
  private attribute(type: number, size: number): number {
    const at = this.length;
    const end = at + align4(NLA_HDRLEN + size);
    if (end > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(end, 2 * this.buffer.length));
      this.buffer.copy(grown, 0, 0, at);
      this.buffer = grown;
    }
    this.length = end;
    this.store(at, NLA_HDRLEN + size, 2);
    this.store(at + 2, type, 2);
    return at + NLA_HDRLEN;
  }

  /** Little-endian, `bytes` long. */
  private store(at: number, value: number, bytes: 2 | 4): void {
    for (let i = 0; i < bytes; i++) this.buffer[at + i] = (value >>> (8 * i)) & 0xff;
  }
}

/** Attribute payloads by type (flags stripped); a repeated type keeps the last one. */
export type Attributes = Map<number, Buffer>;

export function parseAttributes(buffer: Buffer, offset = 0, end = buffer.length): Attributes {
  const attributes: Attributes = new Map();
  while (offset + NLA_HDRLEN <= end) {
    const length = buffer.readUInt16LE(offset);
    if (length < NLA_HDRLEN || offset + length > end) break;
    const type = buffer.readUInt16LE(offset + 2) & NLA_TYPE_MASK;
    attributes.set(type, buffer.subarray(offset + NLA_HDRLEN, offset + length));
    offset += align4(length);
  }
  return attributes;
}

export const readU8 = (b: Buffer | undefined): number | undefined => (b && b.length >= 1 ? b.readUInt8(0) : undefined);
export const readU16 = (b: Buffer | undefined): number | undefined => (b && b.length >= 2 ? b.readUInt16LE(0) : undefined);
export const readBe16 = (b: Buffer | undefined): number | undefined => (b && b.length >= 2 ? b.readUInt16BE(0) : undefined);
export const readU32 = (b: Buffer | undefined): number | undefined => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);
export const readI32 = (b: Buffer | undefined): number | undefined => (b && b.length >= 4 ? b.readInt32LE(0) : undefined);

export function readString(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul === -1 ? b.length : nul);
}
