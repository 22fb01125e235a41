// The gossip wire format: one type byte, then fixed-width big-endian integers and
// length-prefixed strings. Binary because probes and piggybacked updates must share a ~1400-byte
// packet; the decoder is total: any bytes give a message or a CodecError, nothing else.
import { isUtf8 } from 'node:buffer';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

export interface PushNodeState {
  name: string;
  address: string;
  meta: Buffer;
  incarnation: number;
  state: MemberState;
}

export type Message =
  | { type: 'ping'; seq: number; target: string }
  | { type: 'indirect-ping'; seq: number; target: string; targetAddress: string; wantNack: boolean }
  | { type: 'ack'; seq: number }
  | { type: 'nack'; seq: number }
  | { type: 'suspect'; incarnation: number; node: string; from: string }
  | { type: 'alive'; incarnation: number; node: string; address: string; meta: Buffer }
  | { type: 'dead'; incarnation: number; node: string; from: string }
  | { type: 'compound'; parts: Message[] }
  | { type: 'push-pull'; nodes: PushNodeState[] }
  /** A layer built on membership (the network tables): its own bytes, sealed and carried like gossip. */
  | { type: 'user'; payload: Buffer };

const TYPE_CODES = ['ping', 'indirect-ping', 'ack', 'nack', 'suspect', 'alive', 'dead', 'compound', 'push-pull', 'user'] as const;
type MessageType = (typeof TYPE_CODES)[number];

/** Names and addresses are bounded so one field cannot eat a packet. */
export const MAX_NAME_BYTES = 255;
export const MAX_META_BYTES = 512;
const MAX_COMPOUND_PARTS = 255;
const EMPTY = Buffer.alloc(0);

export type CodecErrorReason = 'empty' | 'unknown-type' | 'truncated' | 'trailing-bytes' | 'invalid-field';

export class CodecError extends Error {
  constructor(
    readonly reason: CodecErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

/** Writes a message into one buffer that grows as needed: a push-pull carries thousands of fields. */
export class Writer {
  private buffer = Buffer.allocUnsafe(256);
  private at = 0;

  private reserve(count: number): void {
    if (this.at + count <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.at + count));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.at++] = value & 0xff;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.at = this.buffer.writeUInt16BE(value & 0xffff, this.at);
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.at = this.buffer.writeUInt32BE(value >>> 0, this.at);
    return this;
  }

  /** A field's length prefix, after checking its bound. */
  private length(length: number, max: number, what: string): this {
    if (length > max) throw new RangeError(`${what} is ${length} bytes, more than ${max}`);
    return this.u16(length);
  }

  bytes(value: Buffer, max: number, what: string): this {
    return this.length(value.length, max, what).raw(value);
  }

  str(value: string, what: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.length(length, MAX_NAME_BYTES, what).reserve(length);
    this.at += this.buffer.write(value, this.at, length, 'utf8');
    return this;
  }

  raw(value: Buffer): this {
    this.reserve(value.length);
    this.at += value.copy(this.buffer, this.at);
    return this;
  }

  /** The message, in a buffer of its own. */
  done(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.at));
  }
}

export class Reader {
  private at = 0;

  constructor(private readonly buffer: Buffer) {}

  private need(count: number, what: string): void {
    if (this.at + count > this.buffer.length) throw new CodecError('truncated', `packet ends inside ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buffer[this.at++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.buffer.readUInt16BE(this.at);
    this.at += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.buffer.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  /** Where a length-prefixed field lies, after checking its bound; the reader moves past it. */
  private field(max: number, what: string): [start: number, end: number] {
    const length = this.u16(`${what} length`);
    if (length > max) throw new CodecError('invalid-field', `${what} is ${length} bytes, more than ${max}`);
    this.need(length, what);
    const start = this.at;
    this.at += length;
    return [start, this.at];
  }

  bytes(max: number, what: string): Buffer {
    const [start, end] = this.field(max, what);
    // Every empty field shares one buffer (nothing can be written into it): a member holds the
    // metadata of every other, mostly empty, and each fresh empty Buffer costs ~300 bytes.
    return start === end ? EMPTY : Buffer.from(this.buffer.subarray(start, end));
  }

  str(what: string): string {
    const [start, end] = this.field(MAX_NAME_BYTES, what);
    // Invalid UTF-8 would decode to replacement characters: a name that no longer round-trips.
    if (!isUtf8(this.buffer.subarray(start, end))) throw new CodecError('invalid-field', `${what} is not valid UTF-8`);
    return this.buffer.toString('utf8', start, end);
  }

  bool(what: string): boolean {
    const value = this.u8(what);
    if (value > 1) throw new CodecError('invalid-field', `${what} is ${value}, not 0 or 1`);
    return value === 1;
  }

  /** Everything not read yet. */
  rest(): Buffer {
    const value = Buffer.from(this.buffer.subarray(this.at));
    this.at = this.buffer.length;
    return value;
  }

  remaining(): number {
    return this.buffer.length - this.at;
  }

  /** A u32 count of items each at least `minBytes` long: one the bytes left cannot hold is refused before any loop. */
  count(minBytes: number, what: string): number {
    const count = this.u32(`${what} count`);
    if (count * minBytes > this.remaining()) throw new CodecError('truncated', `${what} count ${count} exceeds the bytes that follow`);
    return count;
  }

  end(): void {
    if (this.at !== this.buffer.length) throw new CodecError('trailing-bytes', `${this.buffer.length - this.at} bytes follow the message`);
  }
}

function typeCode(type: MessageType): number {
  return TYPE_CODES.indexOf(type) + 1;
}

/** Encodes one message; throws RangeError when a field exceeds its bound (a caller bug). */
export function encode(message: Message): Buffer {
  const w = new Writer().u8(typeCode(message.type));
  switch (message.type) {
    case 'ping':
      return w.u32(message.seq).str(message.target, 'ping target').done();
    case 'indirect-ping':
      return w.u32(message.seq).str(message.target, 'target').str(message.targetAddress, 'target address').u8(message.wantNack ? 1 : 0).done();
    case 'ack':
    case 'nack':
      return w.u32(message.seq).done();
    case 'suspect':
    case 'dead':
      return w.u32(message.incarnation).str(message.node, 'node').str(message.from, 'from').done();
    case 'alive':
      return w.u32(message.incarnation).str(message.node, 'node').str(message.address, 'address').bytes(message.meta, MAX_META_BYTES, 'meta').done();
    case 'compound':
      return encodeCompound(message.parts.map(encode));
    case 'push-pull':
      w.u32(message.nodes.length);
      for (const node of message.nodes) {
        w.str(node.name, 'node').str(node.address, 'address').bytes(node.meta, MAX_META_BYTES, 'meta').u32(node.incarnation).u8(STATES.indexOf(node.state));
      }
      return w.done();
    case 'user':
      return w.raw(message.payload).done();
  }
}

/** Joins already encoded messages under one type byte, each with its length (compound packets, table batches). */
export function encodeParts(type: number, parts: Buffer[], max: number, what: string): Buffer {
  if (parts.length > max) throw new RangeError(`a ${what} holds at most ${max} messages`);
  const w = new Writer().u8(type).u8(parts.length);
  for (const part of parts) w.bytes(part, 0xffff, `${what} part`);
  return w.done();
}

/** Joins already encoded messages into one compound packet. */
export const encodeCompound = (parts: Buffer[]): Buffer => encodeParts(typeCode('compound'), parts, MAX_COMPOUND_PARTS, 'compound');

/** Bytes a message adds when it becomes part of a compound packet. */
export const COMPOUND_PART_OVERHEAD = 2;
export const COMPOUND_HEADER = 2;

export type DecodeResult = { ok: true; message: Message } | { ok: false; error: CodecError };

/** Runs a decoder so that it never throws: any failure is a CodecError for the caller, who drops the bytes. */
export function decodeTotally<T>(decoder: () => T, what: string): { ok: true; message: T } | { ok: false; error: CodecError } {
  try {
    return { ok: true, message: decoder() };
  } catch (error) {
    if (error instanceof CodecError) return { ok: false, error };
    // Anything else is a decoder bug; still a typed error.
    return { ok: false, error: new CodecError('invalid-field', `undecodable ${what}: ${String(error)}`) };
  }
}

/** Decodes one packet or stream body; never throws. */
export const decode = (buffer: Buffer): DecodeResult => decodeTotally(() => decodeMessage(buffer, true), 'packet');

function decodeMessage(buffer: Buffer, compoundAllowed: boolean): Message {
  if (buffer.length === 0) throw new CodecError('empty', 'empty message');
  const r = new Reader(buffer);
  const code = r.u8('type');
  const type = TYPE_CODES[code - 1];
  if (!type) throw new CodecError('unknown-type', `unknown message type ${code}`);
  const message = decodeBody(type, r, compoundAllowed);
  r.end();
  return message;
}

function decodeBody(type: MessageType, r: Reader, compoundAllowed: boolean): Message {
  switch (type) {
    case 'ping':
      return { type, seq: r.u32('seq'), target: r.str('ping target') };
    case 'indirect-ping':
      return { type, seq: r.u32('seq'), target: r.str('target'), targetAddress: r.str('target address'), wantNack: r.bool('want-nack') };
    case 'ack':
    case 'nack':
      return { type, seq: r.u32('seq') };
    case 'suspect':
    case 'dead':
      return { type, incarnation: r.u32('incarnation'), node: r.str('node'), from: r.str('from') };
    case 'alive':
      return { type, incarnation: r.u32('incarnation'), node: r.str('node'), address: r.str('address'), meta: r.bytes(MAX_META_BYTES, 'meta') };
    case 'compound': {
      if (!compoundAllowed) throw new CodecError('invalid-field', 'a compound message cannot nest another');
      const count = r.u8('part count');
      const parts: Message[] = [];
      for (let i = 0; i < count; i++) parts.push(decodeMessage(r.bytes(0xffff, `part ${i}`), false));
      return { type, parts };
    }
    case 'push-pull': {
      // Each node takes at least 11 bytes.
      const count = r.count(11, 'node');
      const nodes: PushNodeState[] = [];
      for (let i = 0; i < count; i++) {
        const name = r.str('node');
        const address = r.str('address');
        const meta = r.bytes(MAX_META_BYTES, 'meta');
        const incarnation = r.u32('incarnation');
        const stateCode = r.u8('state');
        const state = STATES[stateCode];
        if (!state) throw new CodecError('invalid-field', `unknown member state ${stateCode}`);
        nodes.push({ name, address, meta, incarnation, state });
      }
      return { type, nodes };
    }
    case 'user':
      return { type, payload: r.rest() };
  }
}
