// Lifeguard's suspicion timer: a suspect is declared dead after `maxMs` unless independent members
// confirm the suspicion, each confirmation shrinking the timeout on a log scale down to `minMs`
// once `k` of them arrived.
import type { Clock, TimerHandle } from './clock';

/** Timeout for n confirmations out of k: max − (log(n+1)/log(k+1))·(max − min), at least min. */
export function suspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)));
}

/** The base timeout for a cluster of n: multiplier × max(1, log10(n)) × probe interval. */
export function baseSuspicionTimeoutMs(multiplier: number, clusterSize: number, probeIntervalMs: number): number {
  return multiplier * Math.max(1, Math.log10(Math.max(1, clusterSize))) * probeIntervalMs;
}

export class Suspicion {
  private readonly confirmers = new Set<string>();
  private readonly startedAt: number;
  private timer: TimerHandle;
  private fired = false;

  constructor(
    private readonly clock: Clock,
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: (confirmations: number) => void,
  ) {
    // The suspicion's origin does not count as a confirmation.
    this.confirmers.add(from);
    this.startedAt = clock.now();
    this.timer = clock.schedule(k < 1 ? minMs : maxMs, () => this.fire());
  }

  get confirmations(): number {
    return this.confirmers.size - 1;
  }

  /** Counts a new independent confirmation; false if already counted, from the origin, or k reached. */
  confirm(from: string): boolean {
    if (this.fired || this.confirmations >= this.k || this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    this.timer.cancel();
    const remaining = suspicionTimeoutMs(this.confirmations, this.k, this.minMs, this.maxMs) - (this.clock.now() - this.startedAt);
    this.timer = this.clock.schedule(Math.max(0, remaining), () => this.fire());
    return true;
  }

  cancel(): void {
    this.fired = true;
    this.timer.cancel();
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.onTimeout(this.confirmations);
  }
}
