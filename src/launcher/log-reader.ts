// A container's log as lines with times, for logs' tail, since, until and timestamps. The shim
// writes Docker's multiplexed frames, each after a time record (stream 16: when it read the
// chunk, Unix nanoseconds). A line is what Docker's log driver makes a message: it ends at a
// newline (the chunk completing it gives its time) or at 16 KiB; what is left at the end of the
// log is a line of its own.
import type fs from 'node:fs';
import { LengthPrefixedReader } from '../util/length-prefixed';

export const LOG_TIME_STREAM = 16;
/** Docker's longest log message; a longer line is cut in pieces of this size. */
export const MAX_LINE_BYTES = 16 * 1024;
const READ_BYTES = 64 * 1024;

export interface LogLine {
  stream: number;
  /** Unix nanoseconds; 0 for output written before the log kept times. */
  timeNano: bigint;
  /** The line, with its newline if it had one. */
  data: Buffer;
}

/** Cuts the log's bytes into lines, as they come. */
export class LogLineSplitter {
  private readonly records = new LengthPrefixedReader(8, (header) => header.readUInt32BE(4));
  private timeNano = 0n;
  /** Per stream, the line begun and not yet ended. */
  private readonly pending = new Map<number, Buffer[]>();

  push(chunk: Buffer): LogLine[] {
    const lines: LogLine[] = [];
    for (const record of this.records.push(chunk)) {
      const stream = record[0]!;
      const data = record.subarray(8);
      if (stream === LOG_TIME_STREAM) {
        if (data.length === 8) this.timeNano = data.readBigUInt64BE(0);
        continue;
      }
      let rest = data;
      for (let newline = rest.indexOf(0x0a); newline >= 0; newline = rest.indexOf(0x0a)) {
        lines.push(...this.take(stream, rest.subarray(0, newline + 1), true));
        rest = rest.subarray(newline + 1);
      }
      if (rest.length > 0) lines.push(...this.take(stream, rest, false));
    }
    return lines;
  }

  /** The lines begun and not ended, as lines of their own (at the end of what is read), oldest stream first. */
  flush(): LogLine[] {
    const lines = [...this.pending].map(([stream, parts]) => ({ stream, timeNano: this.timeNano, data: Buffer.concat(parts) }));
    this.pending.clear();
    return lines;
  }

  private take(stream: number, piece: Buffer, ends: boolean): LogLine[] {
    const parts = this.pending.get(stream) ?? [];
    parts.push(Buffer.from(piece));
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    if (!ends && length < MAX_LINE_BYTES) {
      this.pending.set(stream, parts);
      return [];
    }
    this.pending.delete(stream);
    const whole = Buffer.concat(parts);
    const lines: LogLine[] = [];
    let at = 0;
    for (; whole.length - at >= MAX_LINE_BYTES || (ends && at < whole.length); at += MAX_LINE_BYTES) lines.push({ stream, timeNano: this.timeNano, data: whole.subarray(at, at + MAX_LINE_BYTES) });
    // A line not yet ended keeps its last piece short of the size pending.
    if (at < whole.length) this.pending.set(stream, [whole.subarray(at)]);
    return lines;
  }
}

/**
 * The lines of the log from byte `from` to byte `to` (the file's size when the read began: a
 * container writing meanwhile does not make it endless), pending pieces included.
 */
export async function* readLogLines(file: fs.promises.FileHandle, from: number, to: number): AsyncGenerator<LogLine> {
  const splitter = new LogLineSplitter();
  const buffer = Buffer.alloc(READ_BYTES);
  for (let position = from; position < to; ) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, to - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    // Copied: the reader keeps a partial record until its next chunk.
    yield* splitter.push(Buffer.from(buffer.subarray(0, bytesRead)));
  }
  yield* splitter.flush();
}

/** What of the log `docker logs` asks for: the last `tail` lines (all when absent), between `since` and `until`. */
export interface LogSelection {
  tail?: number;
  sinceNano?: bigint;
  untilNano?: bigint;
}

/** Lines to skip from the start for a tail of `tail` out of `total`, as Docker's tail counts every stream's. */
export function linesToSkip(total: number, tail: number | undefined): number {
  return tail === undefined ? 0 : Math.max(0, total - tail);
}

/** Whether a line is before `since` (skipped), inside, or after `until` (the read ends there, as Docker's). */
export function placeInWindow(line: LogLine, selection: LogSelection): 'before' | 'inside' | 'after' {
  if (selection.sinceNano !== undefined && line.timeNano < selection.sinceNano) return 'before';
  if (selection.untilNano !== undefined && line.timeNano > selection.untilNano) return 'after';
  return 'inside';
}

/** Docker's log timestamp: RFC 3339 in UTC with nine digits of fraction (its RFC3339NanoFixed). */
export function logTimestamp(timeNano: bigint): string {
  const seconds = timeNano / 1_000_000_000n;
  const fraction = (timeNano % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}
