// One pool in memory: its prefix, optional sub-pool (--ip-range), reserved addresses, the set
// of allocated addresses and the serial cursor. Pure: the facade persists before it mutates.
import { bigIntToIp, formatPrefix, ipToBigInt, ipVersion, lastAddress, type Prefix, prefixContains, prefixSize } from '../ip/address';
import { addressSetFor, type AddressSet } from './address-set';
import { AddressInUseError, AddressOutOfRangeError, InvalidRequestError, PoolExhaustedError, ReservedAddressError } from './errors';

/** Why an address was handed out: only endpoint addresses keep a pool from being released. */
export type AddressRole = 'gateway' | 'aux' | 'endpoint';

export class Pool {
  private readonly allocated: AddressSet;
  private readonly roles = new Map<bigint, AddressRole>();
  /** Offset of the last address handed out serially; the next search starts after it. */
  private cursor: bigint | undefined;
  /** Offsets of the dynamic range: the sub-pool if given, else the whole pool. */
  private readonly rangeFirst: bigint;
  private readonly rangeLast: bigint;

  constructor(
    readonly id: string,
    readonly prefix: Prefix,
    readonly subPool: Prefix | undefined,
  ) {
    this.allocated = addressSetFor(prefixSize(prefix));
    const range = subPool ?? prefix;
    this.rangeFirst = range.base - prefix.base;
    this.rangeLast = lastAddress(range) - prefix.base;
  }

  get inUse(): number {
    return this.allocated.size;
  }

  get endpointCount(): number {
    let n = 0;
    for (const role of this.roles.values()) if (role === 'endpoint') n++;
    return n;
  }

  /** The reason an offset can never be handed out, or undefined. */
  reservedReason(offset: bigint): string | undefined {
    const { version, length } = this.prefix;
    if (version === 4 && length < 31) {
      if (offset === 0n) return 'network address';
      if (offset === prefixSize(this.prefix) - 1n) return 'broadcast address';
    }
    if (version === 6 && length < 127 && offset === 0n) return 'subnet-router anycast address';
    return undefined;
  }

  /** Validates a specific address and returns its offset; throws if it cannot be allocated. */
  offsetOf(ip: string, what = 'address'): bigint {
    if (ipVersion(ip) === 0) throw new InvalidRequestError(`invalid ${what} "${ip}": not an IP address`);
    const { version, value } = ipToBigInt(ip);
    if (!prefixContains(this.prefix, version, value)) throw new AddressOutOfRangeError(ip, formatPrefix(this.prefix), what);
    const offset = value - this.prefix.base;
    const reserved = this.reservedReason(offset);
    if (reserved) throw new ReservedAddressError(ip, formatPrefix(this.prefix), reserved);
    if (this.allocated.has(offset)) throw new AddressInUseError(ip, formatPrefix(this.prefix));
    return offset;
  }

  /**
   * The next free offset of the dynamic range. Endpoints continue after the last one handed out
   * and wrap around, so a released address is not reused at once; a gateway takes the lowest.
   */
  nextFree(role: AddressRole): bigint {
    const usable = (from: bigint, to: bigint): bigint | undefined => {
      for (let start = from; start <= to; ) {
        const offset = this.allocated.firstFree(start, to);
        if (offset === undefined) return undefined;
        if (!this.reservedReason(offset)) return offset;
        start = offset + 1n;
      }
      return undefined;
    };
    const start = role === 'endpoint' && this.cursor !== undefined && this.cursor < this.rangeLast ? this.cursor + 1n : this.rangeFirst;
    const found = usable(start, this.rangeLast) ?? (start > this.rangeFirst ? usable(this.rangeFirst, start - 1n) : undefined);
    if (found === undefined) throw new PoolExhaustedError(formatPrefix(this.subPool ?? this.prefix));
    return found;
  }

  /**
   * Moves the serial cursor to a random point of the range: after losing a race to another
   * daemon, searching from where the winner is would lose again and again.
   */
  jumpCursor(): void {
    const span = this.rangeLast - this.rangeFirst + 1n;
    const limited = span > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : span;
    this.cursor = this.rangeFirst + BigInt(Math.floor(Math.random() * Number(limited)));
  }

  mark(offset: bigint, role: AddressRole, serial: boolean): void {
    this.allocated.add(offset);
    this.roles.set(offset, role);
    if (serial) this.cursor = offset;
  }

  unmark(offset: bigint): void {
    this.allocated.delete(offset);
    this.roles.delete(offset);
  }

  isAllocated(offset: bigint): boolean {
    return this.allocated.has(offset);
  }

  address(offset: bigint): string {
    return bigIntToIp(this.prefix.base + offset, this.prefix.version);
  }

  /** "10.0.0.5/24": an address with the pool's prefix length, as drivers configure it. */
  cidr(offset: bigint): string {
    return `${this.address(offset)}/${this.prefix.length}`;
  }

  /** Offset of an address known to lie in the pool (no validation). */
  offset(ip: string): bigint {
    return ipToBigInt(ip).value - this.prefix.base;
  }
}
