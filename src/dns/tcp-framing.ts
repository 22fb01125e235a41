// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): every message goes with a two-byte length before it.

import { LengthPrefixedReader } from '../util/length-prefixed';

export function withLength(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Cuts whole messages, without their length, out of a TCP byte stream as chunks arrive. */
export class MessageReader {
  private readonly records = new LengthPrefixedReader(2, (header) => header.readUInt16BE(0));

  push(chunk: Buffer): Buffer[] {
    return this.records.push(chunk).map((record) => record.subarray(2));
  }
}
