// Answers written straight from the query's bytes: its header (flags turned into a response's),
// its question copied as it came, and records whose owner is a pointer to that question's name.
// dns2 builds the same message through objects at ~13 µs; this takes well under 1 µs, which is
// most of the embedded DNS's cost per query (see README, DNS). Queries are still read by dns2.
// Total: names come from the store, which may hold some no check ever saw, so a record that
// cannot be written is left out of the answer, never an exception.
import { ipToBytes } from '../ip/address';

export interface RecordData {
  type: number;
  /** A and AAAA. */
  address?: string;
  /** PTR. */
  domain?: string;
}

const HEADER_BYTES = 12;
/** RFC 1035 §2.3.4: a label of 63 bytes at most, a name of 255 on the wire. */
const MAX_LABEL_BYTES = 63;
const MAX_NAME_BYTES = 255;
/** What a two-byte length (TCP's, RDLENGTH) can say. */
const MAX_MESSAGE_BYTES = 65535;
const MAX_TTL = 0x7fffffff;
const TYPE_A = 1;
const TYPE_AAAA = 28;
/** A compression pointer to offset 12, where the question's name starts. */
const POINTER_TO_QUESTION = 0xc00c;
const OPT_RECORD = Buffer.from([0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** Where the single question of a query ends, or undefined when its name is not plain labels within 255 bytes. */
export function questionEnd(message: Buffer): number | undefined {
  let offset = HEADER_BYTES;
  while (offset < message.length) {
    const length = message[offset]!;
    if (length === 0) return offset + 1 + 4 <= message.length ? offset + 1 + 4 : undefined;
    if (length > MAX_LABEL_BYTES || offset + 1 + length - HEADER_BYTES >= MAX_NAME_BYTES) return undefined;
    offset += 1 + length;
  }
  return undefined;
}

/**
 * A domain name's wire form (a trailing dot is the root's), or undefined when it has none: an
 * empty label, a label over 63 bytes, a character outside ASCII, or over 255 bytes in all.
 */
export function encodeName(name: string): Buffer | undefined {
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  // Labels and their length bytes, and the root's zero byte.
  if (text.length + 2 > MAX_NAME_BYTES) return undefined;
  const wire = Buffer.alloc(text.length + 2);
  let offset = 0;
  for (const label of text.split('.')) {
    if (label.length === 0 || label.length > MAX_LABEL_BYTES) return undefined;
    wire[offset++] = label.length;
    for (let i = 0; i < label.length; i++) {
      const code = label.charCodeAt(i);
      if (code > 0x7f) return undefined;
      wire[offset++] = code;
    }
  }
  return wire;
}

function rdataOf(record: RecordData): Buffer | undefined {
  if (record.domain !== undefined) return encodeName(record.domain);
  const length = record.type === TYPE_A ? 4 : record.type === TYPE_AAAA ? 16 : 0;
  try {
    const bytes = ipToBytes(record.address ?? '');
    return bytes.length === length ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** A record after the question's name, or undefined when it cannot be written. */
function encodeRecord(record: RecordData, ttl: number): Buffer | undefined {
  const rdata = rdataOf(record);
  if (rdata === undefined || rdata.length > MAX_MESSAGE_BYTES || !(record.type >= 0 && record.type <= 0xffff)) return undefined;
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(POINTER_TO_QUESTION, 0);
  fixed.writeUInt16BE(record.type, 2);
  fixed.writeUInt16BE(1, 4);
  fixed.writeUInt32BE(ttl, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([fixed, rdata]);
}

/**
 * The response to `query` (whose question ends at `end`) carrying those of `records` that can be
 * written; with `edns`, an OPT record too. When it would exceed `limit` bytes (at most 65,535) it
 * goes without records and with TC set. Never throws.
 */
export function encodeAnswer(query: Buffer, end: number, records: readonly RecordData[], ttl: number, edns: boolean, limit: number): Buffer {
  const clampedTtl = Math.min(Math.max(Math.trunc(ttl) || 0, 0), MAX_TTL);
  const answers = records.map((r) => encodeRecord(r, clampedTtl)).filter((a): a is Buffer => a !== undefined);
  const question = query.subarray(HEADER_BYTES, Math.max(HEADER_BYTES, end));
  const size = HEADER_BYTES + question.length + answers.reduce((n, a) => n + a.length, 0) + (edns ? OPT_RECORD.length : 0);
  const truncated = size > Math.min(limit, MAX_MESSAGE_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  query.copy(header, 0, 0, HEADER_BYTES);
  // QR=1, opcode and RD kept, AA=0, TC when truncated; RA=1, Z=0, RCODE NOERROR.
  header[2] = 0x80 | (header[2]! & 0x79) | (truncated ? 0x02 : 0);
  header[3] = 0x80;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(truncated ? 0 : answers.length, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(edns ? 1 : 0, 10);
  return Buffer.concat([header, question, ...(truncated ? [] : answers), ...(edns ? [OPT_RECORD] : [])]);
}
