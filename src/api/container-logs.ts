// GET /containers/{id}/logs with Docker's tail, since, until and timestamps: the log read as
// lines with times (see launcher/log-reader.ts), then followed while the container runs.
import { once } from 'node:events';
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { type LogLine, LogLineSplitter, type LogSelection, linesToSkip, logTimestamp, placeInWindow, readLogLines } from '../launcher/log-reader';
import { parseEventTime } from './events';
import { LogWake, type RunEnded } from './log-wake';
import { frame } from './stream';

const READ_BYTES = 64 * 1024;

export interface LogOptions extends LogSelection {
  timestamps: boolean;
}

const truthy = (value: string | null): boolean => value === '1' || value === 'true';

/**
 * The query's tail, since, until and timestamps; undefined when none is set (the log is relayed
 * as it is). As dockerd: a tail that is not a count, or a negative one, is the whole log; since
 * and until are Unix seconds with an optional fraction (0: none); a bad time is a 400.
 */
export function parseLogOptions(query: URLSearchParams): LogOptions | undefined {
  const tailText = query.get('tail') ?? '';
  const tailCount = /^[+-]?\d+$/.test(tailText) ? Number(tailText) : -1;
  const time = (key: string): bigint | undefined => {
    const value = query.get(key) ?? '';
    return value === '' || value === '0' ? undefined : parseEventTime(key, value);
  };
  const sinceNano = time('since');
  const untilNano = time('until');
  const options: LogOptions = {
    timestamps: truthy(query.get('timestamps')),
    ...(tailCount >= 0 ? { tail: tailCount } : {}),
    ...(sinceNano !== undefined ? { sinceNano } : {}),
    ...(untilNano !== undefined ? { untilNano } : {}),
  };
  return options.timestamps || options.tail !== undefined || options.sinceNano !== undefined || options.untilNano !== undefined ? options : undefined;
}

/**
 * Writes the selected lines of the wanted streams as frames, each led by its time with
 * `timestamps`; while `running()` holds (a follow), goes on with what the container writes, until
 * `until` has passed.
 */
export async function streamLogLines(out: ServerResponse, logFile: string, wanted: ReadonlySet<number>, running: () => boolean, options: LogOptions, runEnded: RunEnded): Promise<void> {
  let closed = false;
  let leave = (): void => {};
  const gone = new Promise<void>((resolve) => (leave = () => resolve(void (closed = true))));
  out.once('close', leave);
  out.socket?.once('end', leave);
  const file = await fs.promises.open(logFile, 'r').catch(() => undefined);
  const wake = new LogWake(logFile, { stop: gone, runEnded });
  /** False once a line after `until` was met or the client left: nothing more is sent. */
  const send = async (line: LogLine): Promise<boolean> => {
    const place = placeInWindow(line, options);
    if (place === 'after') return false;
    if (place === 'inside' && wanted.has(line.stream)) {
      out.write(frame(line.stream as 1 | 2, options.timestamps ? Buffer.concat([Buffer.from(`${logTimestamp(line.timeNano)} `), line.data]) : line.data));
      // A client that reads slowly leaves the rest in the file, not in the daemon's memory.
      if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), gone]);
    }
    return !closed;
  };
  try {
    if (!file) return;
    // Asked before the size is taken: a container that has stopped has all its output in by then.
    let following = running();
    const size = (await file.stat()).size;
    let skip = 0;
    if (options.tail !== undefined) {
      let total = 0;
      for await (const _ of readLogLines(file, 0, size)) total++;
      skip = linesToSkip(total, options.tail);
    }
    for await (const line of readLogLines(file, 0, size)) {
      if (skip > 0) {
        skip--;
        continue;
      }
      if (!(await send(line))) return;
    }
    const splitter = new LogLineSplitter();
    const buffer = Buffer.alloc(READ_BYTES);
    let position = size;
    while (following) {
      following = running();
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        for (const line of splitter.push(Buffer.from(buffer.subarray(0, bytesRead)))) if (!(await send(line))) return;
      }
      const pastUntil = options.untilNano !== undefined && BigInt(Date.now()) * 1_000_000n > options.untilNano;
      if (!following || pastUntil) {
        for (const line of splitter.flush()) if (!(await send(line))) return;
        return;
      }
      await wake.next();
      if (closed) return;
    }
  } finally {
    wake.close();
    out.socket?.off('end', leave);
    await file?.close();
    out.end();
  }
}
