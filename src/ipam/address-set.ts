// The set of allocated offsets of one pool range. IPv4 ranges (up to 2^24 addresses) use a
// bitmap: allocating a whole /16 is a few milliseconds. Larger (IPv6) ranges use a sparse set,
// so a /64 costs memory only for the addresses actually handed out.

export interface AddressSet {
  has(offset: bigint): boolean;
  add(offset: bigint): void;
  delete(offset: bigint): void;
  readonly size: number;
  /** The first offset in [from, to] not in the set, or undefined. */
  firstFree(from: bigint, to: bigint): bigint | undefined;
}

const BITMAP_LIMIT = 1n << 24n;

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
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(offset: bigint): void {
    const i = Number(offset);
    const bit = 1 << (i & 31);
    if ((this.words[i >>> 5]! & bit) === 0) {
      this.words[i >>> 5]! |= bit;
      this.count++;
    }
  }

  delete(offset: bigint): void {
    const i = Number(offset);
    const bit = 1 << (i & 31);
    if ((this.words[i >>> 5]! & bit) !== 0) {
      this.words[i >>> 5]! &= ~bit;
      this.count--;
    }
  }

  firstFree(from: bigint, to: bigint): bigint | undefined {
    let i = Number(from);
    const end = Number(to);
    while (i <= end) {
      const word = this.words[i >>> 5]!;
      // A full word is skipped whole: 32 allocated addresses at a time.
      if (word === 0xffffffff && (i & 31) === 0) {
        i += 32;
        continue;
      }
      if ((word & (1 << (i & 31))) === 0) return BigInt(i);
      i++;
    }
    return undefined;
  }
}

export class SparseSet implements AddressSet {
  private readonly members = new Set<bigint>();

  get size(): number {
    return this.members.size;
  }

  has(offset: bigint): boolean {
    return this.members.has(offset);
  }

  add(offset: bigint): void {
    this.members.add(offset);
  }

  delete(offset: bigint): void {
    this.members.delete(offset);
  }

  firstFree(from: bigint, to: bigint): bigint | undefined {
    // At most size + 1 probes: every taken offset is a member.
    for (let offset = from; offset <= to; offset++) if (!this.members.has(offset)) return offset;
    return undefined;
  }
}

export function addressSetFor(rangeSize: bigint): AddressSet {
  return rangeSize <= BITMAP_LIMIT ? new BitmapSet(Number(rangeSize)) : new SparseSet();
}
