// One pool's allocation state, pure (no I/O): its subnet, optional sub-pool (--ip-range), the
// reserved addresses, the set of allocated offsets and the serial cursor. The facade reserves
// here synchronously, persists, and rolls back (`undo`) if persisting fails, so concurrent
// requests of one process never pick the same address and a failure leaves no trace.
import { bigIntToIp, formatPrefix, ipToBigInt, ipVersion, lastAddress, type Prefix, prefixContains, prefixSize } from '../ip/address';
import { addressSetFor, type AddressSet } from './address-set';
import { AddressInUseError, AddressOutOfRangeError, InvalidIpError, PoolExhaustedError, ReservedAddressError } from './errors';

/**
 * Why an address was handed out: only endpoint addresses keep a pool from being released. A
 * spare is held by a host for joins while the cluster store is unreachable (its name: the host).
 */
export type AddressRole = 'gateway' | 'aux' | 'spare' | 'endpoint';

/** What is known of a non-endpoint address (endpoints, the bulk, carry nothing). */
export interface SpecialAddress {
  role: 'gateway' | 'aux' | 'spare';
  /** The aux address's name (--aux-address name=ip), or the host a spare is held for. */
  name?: string;
}

/** Who holds a special address, for an error naming it. */
function describeHolder(special: SpecialAddress | undefined): string | undefined {
  if (special?.role === 'gateway') return 'it is the gateway';
  if (special?.role === 'aux') return `it is aux address "${special.name}"`;
  if (special?.role === 'spare') return `it is a spare address host ${special.name} keeps for joins while the cluster store is unreachable`;
  return undefined;
}

/** How to undo one `take`: the cursor it moved. */
export interface Taken {
  offset: bigint;
  previousCursor: bigint | undefined;
}

export class PoolAllocator {
  private readonly allocated: AddressSet;
  /** Gateway and aux addresses; every other allocated offset is an endpoint's. */
  private readonly special = new Map<bigint, SpecialAddress>();
  /** Offset of the last address handed out serially; the next search starts after it. */
  private cursorOffset: bigint | undefined;
  /** Offsets of the dynamic range: the sub-pool if given, else the whole pool. */
  readonly rangeFirst: bigint;
  readonly rangeLast: bigint;
  private readonly subnet: string;

  constructor(
    readonly id: string,
    readonly prefix: Prefix,
    readonly subPool: Prefix | undefined,
  ) {
    this.allocated = addressSetFor(prefixSize(prefix));
    const range = subPool ?? prefix;
    this.rangeFirst = range.base - prefix.base;
    this.rangeLast = lastAddress(range) - prefix.base;
    this.subnet = formatPrefix(prefix);
  }

  get inUse(): number {
    return this.allocated.size;
  }

  get endpointCount(): number {
    return this.allocated.size - this.special.size;
  }

  get cursor(): bigint | undefined {
    return this.cursorOffset;
  }

  /** A subnet of one address (IPv4 /32, IPv6 /128) has no room for a gateway besides an endpoint. */
  get singleAddress(): boolean {
    return prefixSize(this.prefix) === 1n;
  }

  /** The reason an offset can never be handed out, or undefined. */
  reservedReason(offset: bigint): string | undefined {
    const { version, length } = this.prefix;
    // RFC 3021 (/31) and host routes (/32) have no network or broadcast address.
    if (version === 4 && length < 31) {
      if (offset === 0n) return 'network address';
      if (offset === prefixSize(this.prefix) - 1n) return 'broadcast address';
    }
    // RFC 6164: a /127 point-to-point link uses both addresses; so does a /128.
    if (version === 6 && length < 127 && offset === 0n) return 'subnet-router anycast address';
    return undefined;
  }

  /** The offset of `ip` in this pool, validated for a specific request; throws the rule it breaks. */
  checkSpecific(ip: string, what = 'address'): bigint {
    const offset = this.offsetIn(ip, what);
    const reserved = this.reservedReason(offset);
    if (reserved) throw new ReservedAddressError(ip, this.subnet, reserved);
    if (this.allocated.has(offset)) throw new AddressInUseError(ip, this.subnet, describeHolder(this.special.get(offset)));
    return offset;
  }

  /** The offset of an address of this pool (any state); throws if malformed or outside. */
  offsetIn(ip: string, what = 'address'): bigint {
    if (typeof ip !== 'string' || ipVersion(ip) === 0 || ip.includes('%')) throw new InvalidIpError(String(ip), what);
    const { version, value } = ipToBigInt(ip);
    if (!prefixContains(this.prefix, version, value)) throw new AddressOutOfRangeError(ip, this.subnet, what);
    return value - this.prefix.base;
  }

  /**
   * The next free usable offset of the dynamic range. 'serial' continues after the last address
   * handed out and wraps around, so a released address is not reused at once (libnetwork's
   * serial mode, which Docker uses); 'lowest' takes the lowest free one (the gateway).
   */
  nextFree(mode: 'serial' | 'lowest'): bigint {
    const start = mode === 'serial' && this.cursorOffset !== undefined && this.cursorOffset < this.rangeLast && this.cursorOffset >= this.rangeFirst ? this.cursorOffset + 1n : this.rangeFirst;
    const found = this.usable(start, this.rangeLast) ?? (start > this.rangeFirst ? this.usable(this.rangeFirst, start - 1n) : undefined);
    if (found === undefined) throw new PoolExhaustedError(formatPrefix(this.subPool ?? this.prefix));
    return found;
  }

  private usable(from: bigint, to: bigint): bigint | undefined {
    // At most three rounds: only the network and broadcast offsets are reserved.
    for (let start = from; start <= to; ) {
      const offset = this.allocated.firstFree(start, to);
      if (offset === undefined) return undefined;
      if (!this.reservedReason(offset)) return offset;
      start = offset + 1n;
    }
    return undefined;
  }

  /** Marks an offset allocated; `serial` moves the cursor onto it. Returns what `undo` needs. */
  take(offset: bigint, special: SpecialAddress | undefined, serial: boolean): Taken {
    const taken = { offset, previousCursor: this.cursorOffset };
    this.allocated.add(offset);
    if (special) this.special.set(offset, special);
    else this.special.delete(offset);
    if (serial) this.cursorOffset = offset;
    return taken;
  }

  /** Reverts a `take` whose persistence failed. */
  undo(taken: Taken): void {
    this.allocated.delete(taken.offset);
    this.special.delete(taken.offset);
    // Only if no later take moved the cursor on (concurrent requests of this process).
    if (this.cursorOffset === taken.offset) this.cursorOffset = taken.previousCursor;
  }

  release(offset: bigint): void {
    this.allocated.delete(offset);
    this.special.delete(offset);
  }

  /**
   * Forgets every allocation (before reloading them from the store); keeps the cursor and the
   * reservations whose writes are still in flight, which the store cannot know of yet.
   */
  clear(): void {
    this.allocated.clear();
    this.special.clear();
    for (const [offset, special] of this.inFlight) {
      this.allocated.add(offset);
      if (special) this.special.set(offset, special);
    }
  }

  /** Reservations taken in memory whose store write has not returned yet. */
  private readonly inFlight = new Map<bigint, SpecialAddress | undefined>();

  isWriting(offset: bigint): boolean {
    return this.inFlight.has(offset);
  }

  /** Marks a taken offset as being written (`clear` keeps it) or, `done`, written or undone. */
  writing(offset: bigint, special: SpecialAddress | undefined, done: boolean): void {
    if (done) this.inFlight.delete(offset);
    else this.inFlight.set(offset, special);
  }

  setCursor(offset: bigint | undefined): void {
    this.cursorOffset = offset;
  }

  /**
   * Moves the serial cursor to a random point of the range: after losing a race to another
   * daemon, searching on from where the winner is searching would lose again and again.
   */
  jumpCursor(random: () => number = Math.random): void {
    const span = this.rangeLast - this.rangeFirst + 1n;
    const limited = span > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : span;
    this.cursorOffset = this.rangeFirst + BigInt(Math.floor(random() * Number(limited)));
  }

  isAllocated(offset: bigint): boolean {
    return this.allocated.has(offset);
  }

  specialAt(offset: bigint): SpecialAddress | undefined {
    return this.special.get(offset);
  }

  /** The aux address reserved under `name`, if any. */
  auxNamed(name: string): bigint | undefined {
    for (const [offset, s] of this.special) if (s.role === 'aux' && s.name === name) return offset;
    return undefined;
  }

  address(offset: bigint): string {
    return bigIntToIp(this.prefix.base + offset, this.prefix.version);
  }

  /** "10.0.0.5/24": an address with the pool's prefix length, as drivers configure it. */
  cidr(offset: bigint): string {
    return `${this.address(offset)}/${this.prefix.length}`;
  }
}
