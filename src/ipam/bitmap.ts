// One bit per address, 32 to a word. Finding the first free bit skips full words whole and
// locates the lowest zero bit of a word with clz32, so a serial scan over a /16 is a few
// thousand word reads at most, and the usual case (the cursor's successor is free) is O(1).
import type { AddressSet } from './address-set';

export class BitmapSet implements AddressSet {
  private readonly words: Uint32Array;
  private count = 0;

  constructor(readonly capacity: number) {
    this.words = new Uint32Array(Math.ceil(capacity / 32));
  }

  get size(): number {
    return this.count;
  }

  has(offset: bigint): boolean {
    const i = Number(offset);
    if (i < 0 || i >= this.capacity) return false;
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(offset: bigint): void {
    const i = this.index(offset);
    const bit = 1 << (i & 31);
    if ((this.words[i >>> 5]! & bit) === 0) {
      this.words[i >>> 5]! |= bit;
      this.count++;
    }
  }

  delete(offset: bigint): void {
    const i = this.index(offset);
    const bit = 1 << (i & 31);
    if ((this.words[i >>> 5]! & bit) !== 0) {
      this.words[i >>> 5]! &= ~bit;
      this.count--;
    }
  }

  clear(): void {
    this.words.fill(0);
    this.count = 0;
  }

  firstFree(from: bigint, to: bigint): bigint | undefined {
    const start = Number(from);
    const end = Math.min(Number(to), this.capacity - 1);
    if (start > end || start < 0) return undefined;
    let w = start >>> 5;
    // Bits below `start` in its word count as taken for this search.
    let word = this.words[w]! | ((1 << (start & 31)) - 1);
    for (;;) {
      const free = ~word;
      if (free !== 0) {
        const index = w * 32 + (31 - Math.clz32(free & -free));
        return index <= end ? BigInt(index) : undefined;
      }
      w++;
      if (w * 32 > end) return undefined;
      word = this.words[w]!;
    }
  }

  private index(offset: bigint): number {
    const i = Number(offset);
    // A caller bug, not user input: the pool validates addresses before they get here.
    if (!(i >= 0 && i < this.capacity)) throw new RangeError(`offset ${offset} outside a bitmap of ${this.capacity}`);
    return i;
  }
}
