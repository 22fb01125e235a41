// Updates waiting to be gossiped: each goes out a bounded number of times, fewest-sent first, and
// a newer update about a node replaces the older one still queued.

export interface QueuedBroadcast {
  /** The node the update is about: a newer one with the same key invalidates this one. */
  key: string;
  payload: Buffer;
  transmits: number;
  /** Resolves once the update was sent its last time or was replaced. */
  onDone?: () => void;
}

/** Retransmissions for a cluster of `clusterSize`: multiplier × ceil(log10(n + 1)). */
export function retransmitLimit(multiplier: number, clusterSize: number): number {
  return multiplier * Math.ceil(Math.log10(clusterSize + 1));
}

export class BroadcastQueue {
  private items: QueuedBroadcast[] = [];

  constructor(
    private readonly multiplier: number,
    private readonly clusterSize: () => number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  queue(key: string, payload: Buffer, onDone?: () => void): void {
    const replaced = this.items.filter((item) => item.key === key);
    this.items = this.items.filter((item) => item.key !== key);
    for (const item of replaced) item.onDone?.();
    this.items.push({ key, payload, transmits: 0, onDone });
  }

  /**
   * Takes up to `maxCount` broadcasts whose sizes (each plus `overhead`) fit in `budget` bytes, fewest-sent first,
   * and counts them as sent once more; those at the limit leave the queue.
   */
  take(overhead: number, budget: number, maxCount = Infinity): Buffer[] {
    const limit = retransmitLimit(this.multiplier, this.clusterSize());
    // Stable sort: among equals, older first.
    const ordered = [...this.items].sort((a, b) => a.transmits - b.transmits);
    const taken: Buffer[] = [];
    let used = 0;
    for (const item of ordered) {
      const size = item.payload.length + overhead;
      if (taken.length >= maxCount) break;
      if (used + size > budget) continue;
      used += size;
      taken.push(item.payload);
      item.transmits++;
      if (item.transmits >= limit) {
        this.items = this.items.filter((other) => other !== item);
        item.onDone?.();
      }
    }
    return taken;
  }

  clear(): void {
    const items = this.items;
    this.items = [];
    for (const item of items) item.onDone?.();
  }
}
