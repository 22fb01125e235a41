// The timers of one cluster component on its Clock: none fires after the component stops, and
// its named loops are cancelled together.
import type { Clock, TimerHandle } from './clock';

export class Timers {
  private readonly named = new Map<string, TimerHandle>();
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  /** Runs `fn` once after `delayMs`, unless stopped by then. */
  after(delayMs: number, fn: () => void): TimerHandle {
    return this.clock.schedule(delayMs, () => {
      if (!this.stopped) fn();
    });
  }

  /** Runs `fn` once after `delayMs` under `name`, which stop() cancels (a loop re-arms the same name). */
  once(name: string, delayMs: number, fn: () => void): void {
    this.named.set(name, this.after(delayMs, fn));
  }

  /** Runs `fn` every `intervalMs` until stopped. */
  every(name: string, intervalMs: number, fn: () => void): void {
    const tick = (): void => {
      fn();
      this.once(name, intervalMs, tick);
    };
    this.once(name, intervalMs, tick);
  }

  /** Runs `fn` every `intervalMs()` until stopped, asking the interval anew each time. */
  repeat(name: string, intervalMs: () => number, fn: () => void): void {
    const tick = (): void => {
      fn();
      this.once(name, intervalMs(), tick);
    };
    this.once(name, intervalMs(), tick);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.named.values()) timer.cancel();
    this.named.clear();
  }
}
