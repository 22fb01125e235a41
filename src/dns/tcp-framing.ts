// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): every message goes with a two-byte length before it.

export function withLength(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Cuts whole messages out of a TCP byte stream as chunks arrive. */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 2 && this.pending.length >= 2 + this.pending.readUInt16BE(0)) {
      const end = 2 + this.pending.readUInt16BE(0);
      messages.push(this.pending.subarray(2, end));
      this.pending = this.pending.subarray(end);
    }
    return messages;
  }
}
