// A sparse set of offsets as sorted, disjoint, non-adjacent runs [start, end]. A /64 costs
// memory only for what is allocated, and serial allocation only ever extends the last run, so
// a million serial allocations are one run. Every operation is a binary search over the runs
// (O(log runs)) plus, when a run is created or removed, an array splice.
import type { AddressSet } from './address-set';

export class IntervalSet implements AddressSet {
  private readonly starts: bigint[] = [];
  private readonly ends: bigint[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Number of runs: what memory and search cost are proportional to. */
  get runs(): number {
    return this.starts.length;
  }

  has(offset: bigint): boolean {
    const i = this.runAtOrBefore(offset);
    return i >= 0 && this.ends[i]! >= offset;
  }

  add(offset: bigint): void {
    const i = this.runAtOrBefore(offset);
    if (i >= 0 && this.ends[i]! >= offset) return;
    const joinsLeft = i >= 0 && this.ends[i]! + 1n === offset;
    const joinsRight = i + 1 < this.starts.length && this.starts[i + 1]! - 1n === offset;
    if (joinsLeft && joinsRight) {
      this.ends[i] = this.ends[i + 1]!;
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
    } else if (joinsLeft) {
      this.ends[i] = offset;
    } else if (joinsRight) {
      this.starts[i + 1] = offset;
    } else {
      this.starts.splice(i + 1, 0, offset);
      this.ends.splice(i + 1, 0, offset);
    }
    this.count++;
  }

  delete(offset: bigint): void {
    const i = this.runAtOrBefore(offset);
    if (i < 0 || this.ends[i]! < offset) return;
    const start = this.starts[i]!;
    const end = this.ends[i]!;
    if (start === end) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (offset === start) {
      this.starts[i] = start + 1n;
    } else if (offset === end) {
      this.ends[i] = end - 1n;
    } else {
      // Split the run around the hole.
      this.ends[i] = offset - 1n;
      this.starts.splice(i + 1, 0, offset + 1n);
      this.ends.splice(i + 1, 0, end);
    }
    this.count--;
  }

  clear(): void {
    this.starts.length = 0;
    this.ends.length = 0;
    this.count = 0;
  }

  firstFree(from: bigint, to: bigint): bigint | undefined {
    if (from > to) return undefined;
    const i = this.runAtOrBefore(from);
    if (i < 0 || this.ends[i]! < from) return from;
    // Runs never touch, so the offset after a run is free.
    const next = this.ends[i]! + 1n;
    return next <= to ? next : undefined;
  }

  /** Index of the last run starting at or before `offset`, or -1. */
  private runAtOrBefore(offset: bigint): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    // Fast path for serial allocation: the offset is at or past the last run.
    if (hi >= 0 && this.starts[hi]! <= offset) return hi;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
