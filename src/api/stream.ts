// Docker's multiplexed stream (logs, exec output without a TTY): per frame a stream byte
// (1 stdout, 2 stderr), three zero bytes, a big-endian length, then the data. The shim writes
// container logs in this format; the API relays it and the CLI splits it.

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
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= 8 && this.pending.length >= 8 + this.pending.readUInt32BE(4)) {
      const end = 8 + this.pending.readUInt32BE(4);
      frames.push({ stream: this.pending[0]!, data: this.pending.subarray(8, end), raw: this.pending.subarray(0, end) });
      this.pending = this.pending.subarray(end);
    }
    return frames;
  }
}
