// Every timer of the cluster layer goes through a Clock, so tests can run it on virtual time
// (deterministic and fast) and the daemon on the real one.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Runs `fn` once after `delayMs`; the handle cancels it. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** Real time; timers are unref'd so a forgotten member does not keep the process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  schedule(delayMs, fn) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
