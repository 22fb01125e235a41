// Wakes a log follower (attach, logs --follow) as soon as the container's log file changes,
// through inotify, instead of after a fixed poll: an interactive session's echo comes back at
// once. A follower still wakes every `FOLLOW_CHECK_MS` to see whether the run it follows ended.
import fs from 'node:fs';

const FOLLOW_CHECK_MS = 100;

export class LogWake {
  private watcher: fs.FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  /** `stop` (the client leaving) ends any wait at once. */
  constructor(
    file: string,
    stop?: Promise<void>,
    private readonly checkMs = FOLLOW_CHECK_MS,
  ) {
    void stop?.then(() => {
      this.changed = true;
      this.wake?.();
    });
    try {
      this.watcher = fs.watch(file, { persistent: false }, () => {
        this.changed = true;
        this.wake?.();
      });
      // A watch that fails (the file removed with its container) leaves the periodic check.
      this.watcher.on('error', () => this.close());
    } catch {
      // No such file yet, or no inotify: the periodic check alone.
    }
  }

  /** Resolves when the file changed since the last call (or `stop` settled), or after the check interval. */
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

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
