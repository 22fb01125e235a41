// What a client of a hijacked attach or exec sends: the process's stdin; and the resizes of its
// terminal.
import type { Socket } from 'node:net';
import type { ControlChannel } from '../launcher';
import { badRequest } from './errors';

/** How often an attach made before the start looks for the running container. */
const START_POLL_MS = 50;

/**
 * Passes the client's stream to the process's stdin once `channelOf` has a channel (undefined:
 * not yet, the container has not started; null: never, its run has ended). The client's end of
 * it (a half-close) ends the process's stdin when `endsStdin` (Docker's StdinOnce; always for exec).
 */
export async function relayStdin(socket: Socket, channelOf: () => ControlChannel | undefined | null, endsStdin: boolean): Promise<void> {
  // Heard at once, so what comes before the start is kept: the HTTP server lets the socket flow,
  // and data nobody listens to is gone. Paused while a chunk waits for the process.
  const queue: Buffer[] = [];
  let ended = false;
  let gone = false;
  let wake = (): void => {};
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    socket.pause();
    wake();
  };
  const onEnd = (): void => {
    ended = true;
    wake();
  };
  const onClose = (): void => {
    gone = true;
    onEnd();
  };
  socket.on('data', onData).once('end', onEnd).once('close', onClose);
  try {
    let channel = channelOf();
    while (channel === undefined && !gone) {
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
      channel = channelOf();
    }
    if (!channel) return;
    for (;;) {
      const chunk = queue.shift();
      if (chunk) await channel.write(chunk);
      else if (ended) break;
      else await new Promise<void>((resolve) => ((wake = resolve), socket.resume()));
    }
    if (endsStdin) channel.endStdin();
  } finally {
    socket.off('data', onData).off('end', onEnd).off('close', onClose);
  }
}

/** Docker's h and w of a resize: the terminal's rows and columns. */
export function parseResize(query: URLSearchParams): { rows: number; columns: number } {
  const dimension = (key: 'h' | 'w'): number => {
    const text = query.get(key) ?? '';
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > 0xffff) throw badRequest(`invalid ${key}=${JSON.stringify(text)}: give the terminal's rows (h) and columns (w) as whole numbers from 0 to 65535`);
    return value;
  };
  return { rows: dimension('h'), columns: dimension('w') };
}
