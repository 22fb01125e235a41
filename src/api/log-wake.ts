// Wakes a log follower (attach, logs --follow) as soon as the container's log file changes,
// through inotify, instead of after a fixed poll: an interactive session's echo comes back at
// once; and when the container's run ends, so a follow ends with it. The check every
// `FOLLOW_CHECK_MS` stays as a backstop.
import fs from 'node:fs';

const FOLLOW_CHECK_MS = 100;

/** Calls `listener` when the followed container's run may have ended; returns an unsubscribe. */
export type RunEnded = (listener: () => void) => () => void;

export interface LogWakeOptions {
  /** Settles when the client leaves: any wait ends at once. */
  stop?: Promise<void>;
  runEnded?: RunEnded;
  checkMs?: number;
}

export class LogWake {
  private watcher: fs.FSWatcher | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly checkMs: number;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(file: string, options: LogWakeOptions = {}) {
    this.checkMs = options.checkMs ?? FOLLOW_CHECK_MS;
    void options.stop?.then(() => this.poke());
    this.unsubscribe = options.runEnded?.(() => this.poke());
    try {
      this.watcher = fs.watch(file, { persistent: false }, () => this.poke());
      // A watch that fails (the file removed with its container) leaves the periodic check.
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No such file yet, or no inotify: the periodic check alone.
    }
  }

  /** Resolves when something changed since the last call (the file, the run, the client), or after the check interval. */
  next(): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, this.checkMs);
      this.wake = done;
    });
  }

  private poke(): void {
    this.changed = true;
    this.wake?.();
  }

  close(): void {
    this.unsubscribe?.();
    this.watcher?.close();
    this.watcher = undefined;
  }
}
