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

/** A small seeded generator (mulberry32): the same seed gives the same probe order and loss. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates in place with the given generator. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
