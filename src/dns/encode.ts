// Answers written straight from the query's bytes: its header (flags turned into a response's),
// its question copied as it came, and records whose owner is a pointer to that question's name.
// dns2 builds the same message through objects at ~13 µs; this takes well under 1 µs, which is
// most of the embedded DNS's cost per query (see README, DNS). Queries are still read by dns2.
import { ipToBytes } from '../ip/address';

export interface RecordData {
  type: number;
  /** A and AAAA. */
  address?: string;
  /** PTR. */
  domain?: string;
}

const HEADER_BYTES = 12;
/** A compression pointer to offset 12, where the question's name starts. */
const POINTER_TO_QUESTION = 0xc00c;
const OPT_RECORD = Buffer.from([0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** Where the single question of a query ends, or undefined when its name is not plain labels. */
export function questionEnd(message: Buffer): number | undefined {
  let offset = HEADER_BYTES;
  while (offset < message.length) {
    const length = message[offset]!;
    if (length === 0) return offset + 1 + 4 <= message.length ? offset + 1 + 4 : undefined;
    if (length > 63) return undefined;
    offset += 1 + length;
  }
  return undefined;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]);
}

function encodeRecord(record: RecordData, ttl: number): Buffer {
  const rdata = record.domain !== undefined ? encodeName(record.domain) : ipToBytes(record.address!);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(POINTER_TO_QUESTION, 0);
  fixed.writeUInt16BE(record.type, 2);
  fixed.writeUInt16BE(1, 4);
  fixed.writeUInt32BE(ttl, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([fixed, rdata]);
}

/**
 * The response to `query` (whose question ends at `end`) carrying `records`; with `edns`, an OPT
 * record too. When it would exceed `limit` bytes it goes without records and with TC set.
 */
export function encodeAnswer(query: Buffer, end: number, records: readonly RecordData[], ttl: number, edns: boolean, limit: number): Buffer {
  const answers = records.map((r) => encodeRecord(r, ttl));
  const size = end + answers.reduce((n, a) => n + a.length, 0) + (edns ? OPT_RECORD.length : 0);
  const truncated = size > limit;
  const header = Buffer.from(query.subarray(0, HEADER_BYTES));
  // QR=1, opcode and RD kept, AA=0, TC when truncated; RA=1, Z=0, RCODE NOERROR.
  header[2] = 0x80 | (header[2]! & 0x79) | (truncated ? 0x02 : 0);
  header[3] = 0x80;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(truncated ? 0 : answers.length, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(edns ? 1 : 0, 10);
  return Buffer.concat([header, query.subarray(HEADER_BYTES, end), ...(truncated ? [] : answers), ...(edns ? [OPT_RECORD] : [])]);
}
