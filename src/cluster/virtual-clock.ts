// Virtual time for deterministic tests: timers fire in (time, creation) order only when the test
// advances the clock, and promise callbacks settle between two timers as they would in real time.
import type { Clock, TimerHandle } from './clock';

interface Pending {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class VirtualClock implements Clock {
  private time = 0;
  private order = 0;
  private queue: Pending[] = [];

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const pending: Pending = { at: this.time + Math.max(0, delayMs), order: this.order++, fn, cancelled: false };
    // Binary insertion keeps the queue sorted by (at, order).
    let low = 0;
    let high = this.queue.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.queue[mid]!.at <= pending.at) low = mid + 1;
      else high = mid;
    }
    this.queue.splice(low, 0, pending);
    return { cancel: () => void (pending.cancelled = true) };
  }

  /** Runs every timer due within `ms`, then leaves the clock at now + ms. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    while (this.queue.length > 0 && this.queue[0]!.at <= end) {
      const next = this.queue.shift()!;
      if (next.cancelled) continue;
      this.time = next.at;
      next.fn();
      await settle();
    }
    this.time = end;
  }

  /** Advances in `stepMs` steps until `condition` holds; false if `maxMs` of virtual time passed. */
  async runUntil(condition: () => boolean, maxMs: number, stepMs = 50): Promise<boolean> {
    const end = this.time + maxMs;
    while (!condition()) {
      if (this.time >= end) return false;
      await this.advance(Math.min(stepMs, end - this.time));
    }
    return true;
  }
}
