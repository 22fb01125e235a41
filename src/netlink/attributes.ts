// Netlink attributes (struct nlattr): 4-byte header {len u16, type u16}, payload, padding to 4.
// Integers are in host byte order, which is little-endian on every platform netctl targets.
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants';

export const align4 = (n: number): number => (n + 3) & ~3;

/** Builds a run of attributes; nested() gives a writer for an attribute's children. */
export class AttributeWriter {
  private readonly parts: Buffer[] = [];

  bytes(type: number, payload: Buffer): this {
    const header = Buffer.alloc(NLA_HDRLEN);
    header.writeUInt16LE(NLA_HDRLEN + payload.length, 0);
    header.writeUInt16LE(type, 2);
    this.parts.push(header, payload);
    const pad = align4(payload.length) - payload.length;
    if (pad > 0) this.parts.push(Buffer.alloc(pad));
    return this;
  }

  u8(type: number, value: number): this {
    return this.bytes(type, Buffer.from([value]));
  }

  u16(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value);
    return this.bytes(type, b);
  }

  /** Big-endian 16 bits: ports travel in network order even inside netlink. */
  be16(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return this.bytes(type, b);
  }

  u32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return this.bytes(type, b);
  }

  i32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    return this.bytes(type, b);
  }

  /** A NUL-terminated string, as the kernel's NLA_STRING/NLA_NUL_STRING policies expect. */
  string(type: number, value: string): this {
    return this.bytes(type, Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]));
  }

  nested(type: number, build: (children: AttributeWriter) => void): this {
    const children = new AttributeWriter();
    build(children);
    return this.bytes(type | NLA_F_NESTED, children.toBuffer());
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
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
