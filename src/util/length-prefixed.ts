// Streams that carry records each led by a fixed-size header holding the body's length
// (DNS over TCP, Docker's multiplexed log stream) all need the same cutting: records may
// arrive split across chunks or several in one chunk.

/**
 * Cuts whole records, header included, out of chunks as they arrive; a partial record waits.
 * Chunks are joined only once a header or a whole record is there, so a peer trickling a
 * record byte by byte costs linear copying, not a copy of everything pending per byte.
 */
export class LengthPrefixedReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Header and body of the record being gathered, once its header is in. */
  private recordLength: number | undefined;

  constructor(
    private readonly headerLength: number,
    private readonly bodyLength: (header: Buffer) => number,
  ) {}

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const records: Buffer[] = [];
    for (;;) {
      if (this.recordLength === undefined) {
        if (this.buffered < this.headerLength) break;
        this.recordLength = this.headerLength + this.bodyLength(this.joined());
      }
      if (this.buffered < this.recordLength) break;
      const pending = this.joined();
      records.push(pending.subarray(0, this.recordLength));
      this.chunks = this.recordLength === pending.length ? [] : [pending.subarray(this.recordLength)];
      this.buffered -= this.recordLength;
      this.recordLength = undefined;
    }
    return records;
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }
}
