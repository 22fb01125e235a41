// The daemon's side of a shim's control channel (addon/shim/console.c): stdin data, its end, and
// terminal resizes, as frames of a type byte, a big-endian 32-bit length and the payload. A
// container's shim reads them from the FIFO STATE_DIR/control; an exec's from its stdin.
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import type { Writable } from 'node:stream';

const STDIN = 0;
const END = 1;
const RESIZE = 2;
/** The shim's limit on one frame's payload. */
export const MAX_PAYLOAD = 32768;

function controlFrame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** The largest size a terminal takes (16 bits each). */
export const isTerminalDimension = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;

export class ControlChannel {
  private ended = false;

  constructor(private readonly out: Writable) {
    // A shim that has gone (the process ended) makes writes fail: nothing left to tell it.
    out.on('error', () => undefined);
  }

  /** Opens a running container's control FIFO (its shim holds it open). */
  static ofContainer(fifo: string): ControlChannel {
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    return new ControlChannel(new net.Socket({ fd, readable: false, writable: true }));
  }

  /** Sends stdin data; resolves once the channel can take more (the process reads slowly). */
  async write(data: Buffer): Promise<void> {
    if (this.ended || this.out.destroyed) return;
    let full = false;
    for (let at = 0; at < data.length; at += MAX_PAYLOAD) full = !this.out.write(controlFrame(STDIN, data.subarray(at, at + MAX_PAYLOAD))) || full;
    // A shim gone while the write waits fails the pipe: the data has nowhere to go, which is no error.
    if (full && !this.out.destroyed) await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]).catch(() => undefined);
  }

  /** Stdin is done: a stdin pipe is closed (the process reads its end); a terminal stays. */
  endStdin(): void {
    if (this.ended || this.out.destroyed) return;
    this.ended = true;
    this.out.write(controlFrame(END, Buffer.alloc(0)));
  }

  resize(rows: number, columns: number): void {
    if (this.out.destroyed) return;
    const payload = Buffer.alloc(4);
    payload.writeUInt16BE(rows, 0);
    payload.writeUInt16BE(columns, 2);
    this.out.write(controlFrame(RESIZE, payload));
  }

  close(): void {
    this.out.destroy();
  }
}
