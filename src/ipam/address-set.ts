// The set of allocated offsets (address − network address) of one pool. Two implementations
// behind one interface: a bitmap where the range is small enough to hold one bit per address
// (every IPv4 pool up to a /8), and a run-length interval set for larger (IPv6) ranges, whose
// cost grows with the allocations made, never with the size of the range.
import { BitmapSet } from './bitmap';
import { IntervalSet } from './interval-set';

export interface AddressSet {
  has(offset: bigint): boolean;
  /** Adds an offset; adding a member again is a no-op. */
  add(offset: bigint): void;
  /** Removes an offset; removing a non-member is a no-op. */
  delete(offset: bigint): void;
  clear(): void;
  readonly size: number;
  /** The lowest offset in [from, to] not in the set, or undefined when all are taken. */
  firstFree(from: bigint, to: bigint): bigint | undefined;
}

/** 2^24 bits = 2 MiB: the largest range given a bitmap (a /8 of IPv4). */
export const BITMAP_LIMIT = 1n << 24n;

export function addressSetFor(rangeSize: bigint): AddressSet {
  return rangeSize <= BITMAP_LIMIT ? new BitmapSet(Number(rangeSize)) : new IntervalSet();
}
