// Docker's multiplexed stream (logs, exec output without a TTY): per frame a stream byte
// (1 stdout, 2 stderr), three zero bytes, a big-endian length, then the data. The shim writes
// container logs in this format; the API relays it and the CLI splits it.

import { LengthPrefixedReader } from '../util/length-prefixed';

export const STREAM_TYPE = 'application/vnd.docker.raw-stream';

export function frame(stream: 1 | 2, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

export interface Frame {
  stream: number;
  data: Buffer;
  /** The frame as it came, header included. */
  raw: Buffer;
}

/** Cuts whole frames out of chunks as they arrive; a partial frame waits for the next chunk. */
export class FrameReader {
  private readonly records = new LengthPrefixedReader(8, (header) => header.readUInt32BE(4));

  push(chunk: Buffer): Frame[] {
    return this.records.push(chunk).map((raw) => ({ stream: raw[0]!, data: raw.subarray(8), raw }));
  }
}
