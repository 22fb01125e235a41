// The attached session of `netctl run -i/-t` and `netctl exec -i/-t`, as Docker's CLI holds it:
// the process's output to ours (one raw stream with a TTY, Docker's frames without), our stdin to
// the process, our terminal raw while a TTY session reads it and restored however the session
// ends, and its size passed on at the start and at each change (SIGWINCH).
import { spawnSync } from 'node:child_process';
import type net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { FrameReader } from '../api/stream';
import type { Io } from './command';

export interface SessionOptions {
  /** The process has a TTY: its output is one raw stream. */
  tty: boolean;
  /** Our stdin goes to the process; its end ends the process's stdin. */
  stdin: boolean;
  /** Docker's resize of the process's TTY. */
  resize: (rows: number, columns: number) => Promise<unknown>;
}

/** Docker's CLI refuses -i -t when stdin is no terminal, with this message. */
export const NOT_A_TTY = 'the input device is not a TTY';

/** Our terminal's size, when stdout is one. */
export function terminalSize(): { rows: number; columns: number } | undefined {
  return process.stdout.isTTY ? { rows: process.stdout.rows, columns: process.stdout.columns } : undefined;
}

/** Runs the session until the process's output ends. */
export async function runSession(socket: net.Socket, head: Buffer, io: Io, options: SessionOptions): Promise<void> {
  const stdout = new StringDecoder('utf8');
  const stderr = new StringDecoder('utf8');
  const frames = new FrameReader();
  const output = (chunk: Buffer): void => {
    if (options.tty) return io.out(stdout.write(chunk));
    for (const f of frames.push(chunk)) {
      if (f.stream === 2) io.err(stderr.write(f.data));
      else io.out(stdout.write(f.data));
    }
  };
  const input = process.stdin;
  const raw = options.tty && options.stdin && input.isTTY;
  const onResize = (): void => {
    const size = terminalSize();
    // A resize that fails (the process has just ended) changes nothing worth reporting.
    if (size) void options.resize(size.rows, size.columns).catch(() => undefined);
  };
  const onInput = (chunk: Buffer): void => void socket.write(chunk);
  const onInputEnd = (): void => void socket.end();
  try {
    if (raw) {
      input.setRawMode(true);
      // libuv's raw mode keeps output processing (\n becomes \r\n): the process's pty did that
      // already. Docker's CLI turns it off too; setRawMode(false) restores it.
      spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
    }
    if (options.tty) {
      process.stdout.on('resize', onResize);
      onResize();
    }
    if (options.stdin) input.on('data', onInput).once('end', onInputEnd).resume();
    if (head.length > 0) output(head);
    await new Promise<void>((resolve, reject) => {
      socket.on('data', output).once('end', resolve).once('close', () => resolve()).once('error', reject);
    });
  } finally {
    process.stdout.off('resize', onResize);
    input.off('data', onInput).off('end', onInputEnd);
    if (raw) input.setRawMode(false);
    // Reading stdin would keep the process alive.
    input.pause();
    socket.destroy();
  }
}
