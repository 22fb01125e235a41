// Wire format of the network tables, carried inside membership's 'user' messages: network
// join/leave events, entry events, batches of them for one packet, and the two state exchanges.
// Same style as codec.ts, and as total: any bytes decode to a message or a CodecError.
import { CodecError, decodeTotally, encodeParts, Reader, Writer } from './codec';

/** A node's membership of a network at a Lamport time of the network clock. */
export interface NetworkEvent {
  node: string;
  network: string;
  ltime: number;
  leaving: boolean;
}

/** An entry's state at a Lamport time of the table clock; a deleted one is a tombstone. */
export interface EntryEvent {
  network: string;
  table: string;
  key: string;
  owner: string;
  ltime: number;
  deleted: boolean;
  value: Buffer;
}

export type Gossip = { type: 'network-event'; event: NetworkEvent } | { type: 'entry-event'; event: EntryEvent };

export type TableMessage =
  | Gossip
  | { type: 'batch'; parts: Gossip[] }
  /** Every network membership the sender knows, asked and answered cluster-wide. */
  | { type: 'networks-sync'; events: NetworkEvent[] }
  /** Every entry (tombstones too) of one network the sender holds, with the sender's own join of it. */
  | { type: 'bulk-sync'; network: string; join: NetworkEvent; entries: EntryEvent[] };

const TYPE_CODES = ['network-event', 'entry-event', 'batch', 'networks-sync', 'bulk-sync'] as const;
type TableMessageType = (typeof TYPE_CODES)[number];

/** An entry's value must fit a gossip packet with its names. */
export const MAX_VALUE_BYTES = 512;
const MAX_BATCH_PARTS = 255;
/** Bytes the smallest network event and entry event take: a count beyond them is refused before looping. */
const MIN_NETWORK_EVENT_BYTES = 2 + 2 + 4 + 1;
const MIN_ENTRY_EVENT_BYTES = 2 * 4 + 4 + 1 + 2;

function writeNetworkEvent(w: Writer, e: NetworkEvent): Writer {
  return w.str(e.node, 'node').str(e.network, 'network').u32(e.ltime).u8(e.leaving ? 1 : 0);
}

function writeEntryEvent(w: Writer, e: EntryEvent): Writer {
  return w.str(e.network, 'network').str(e.table, 'table').str(e.key, 'key').str(e.owner, 'owner').u32(e.ltime).u8(e.deleted ? 1 : 0).bytes(e.value, MAX_VALUE_BYTES, 'value');
}

function readNetworkEvent(r: Reader): NetworkEvent {
  return { node: r.str('node'), network: r.str('network'), ltime: r.u32('ltime'), leaving: r.bool('leaving') };
}

function readEntryEvent(r: Reader): EntryEvent {
  return { network: r.str('network'), table: r.str('table'), key: r.str('key'), owner: r.str('owner'), ltime: r.u32('ltime'), deleted: r.bool('deleted'), value: r.bytes(MAX_VALUE_BYTES, 'value') };
}

/** Encodes one message; throws RangeError when a field exceeds its bound (a caller bug). */
export function encodeTableMessage(message: TableMessage): Buffer {
  const w = new Writer().u8(TYPE_CODES.indexOf(message.type) + 1);
  switch (message.type) {
    case 'network-event':
      return writeNetworkEvent(w, message.event).done();
    case 'entry-event':
      return writeEntryEvent(w, message.event).done();
    case 'batch':
      return encodeBatch(message.parts.map(encodeTableMessage));
    case 'networks-sync':
      w.u32(message.events.length);
      for (const event of message.events) writeNetworkEvent(w, event);
      return w.done();
    case 'bulk-sync':
      writeNetworkEvent(w.str(message.network, 'network'), message.join).u32(message.entries.length);
      for (const entry of message.entries) writeEntryEvent(w, entry);
      return w.done();
  }
}

/** Joins already encoded gossip messages into one batch. */
export const encodeBatch = (parts: Buffer[]): Buffer => encodeParts(TYPE_CODES.indexOf('batch') + 1, parts, MAX_BATCH_PARTS, 'batch');

export const BATCH_HEADER = 2;
export const BATCH_PART_OVERHEAD = 2;

export type TableDecodeResult = { ok: true; message: TableMessage } | { ok: false; error: CodecError };

/** Decodes one table message; never throws. */
export const decodeTableMessage = (buffer: Buffer): TableDecodeResult => decodeTotally(() => decodeMessage(buffer, true), 'table message');

function decodeMessage(buffer: Buffer, batchAllowed: boolean): TableMessage {
  if (buffer.length === 0) throw new CodecError('empty', 'empty table message');
  const r = new Reader(buffer);
  const code = r.u8('type');
  const type = TYPE_CODES[code - 1];
  if (!type) throw new CodecError('unknown-type', `unknown table message type ${code}`);
  const message = decodeBody(type, r, batchAllowed);
  r.end();
  return message;
}

function decodeBody(type: TableMessageType, r: Reader, batchAllowed: boolean): TableMessage {
  switch (type) {
    case 'network-event':
      return { type, event: readNetworkEvent(r) };
    case 'entry-event':
      return { type, event: readEntryEvent(r) };
    case 'batch': {
      if (!batchAllowed) throw new CodecError('invalid-field', 'a batch cannot nest another');
      const count = r.u8('part count');
      const parts: Gossip[] = [];
      for (let i = 0; i < count; i++) {
        const part = decodeMessage(r.bytes(0xffff, `part ${i}`), false);
        if (part.type !== 'network-event' && part.type !== 'entry-event') throw new CodecError('invalid-field', `a batch carries events, not ${part.type}`);
        parts.push(part);
      }
      return { type, parts };
    }
    case 'networks-sync': {
      const count = r.count(MIN_NETWORK_EVENT_BYTES, 'network event');
      const events: NetworkEvent[] = [];
      for (let i = 0; i < count; i++) events.push(readNetworkEvent(r));
      return { type, events };
    }
    case 'bulk-sync': {
      const network = r.str('network');
      const join = readNetworkEvent(r);
      const count = r.count(MIN_ENTRY_EVENT_BYTES, 'entry');
      const entries: EntryEvent[] = [];
      for (let i = 0; i < count; i++) entries.push(readEntryEvent(r));
      return { type, network, join, entries };
    }
  }
}
