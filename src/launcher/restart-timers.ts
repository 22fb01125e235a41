// Restarts by policy under way: one timer per container, and the backoff its next restart waits
// (kept in memory, as dockerd's restart manager: a daemon restart starts every backoff over).
import { nextBackoffMs } from './restart-policy';

export class RestartTimers {
  private readonly backoffMs = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Calls `restart` after the backoff this exit earns, the run having lasted `runMs`; returns that wait. */
  schedule(id: string, runMs: number, restart: () => void): number {
    const waitMs = nextBackoffMs(this.backoffMs.get(id) ?? 0, runMs);
    this.backoffMs.set(id, waitMs);
    this.cancel(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        restart();
      }, waitMs),
    );
    return waitMs;
  }

  /** Drops the container's pending restart, if any. */
  cancel(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  /** A start by the user, or a removal: the backoff starts over. */
  forget(id: string): void {
    this.cancel(id);
    this.backoffMs.delete(id);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
