// IP addresses as text, bytes and bigint, and prefixes (CIDR) with the arithmetic IPAM and the
// netlink layer need. Pure: no I/O, no dependencies.
import net from 'node:net';

export type IpVersion = 4 | 6;

export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
  constructor(
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid address ${JSON.stringify(value)}: ${rule}`);
  }
}

export function ipVersion(text: string): IpVersion | 0 {
  return net.isIP(text) as IpVersion | 0;
}

export function ipToBytes(text: string): Buffer {
  const version = ipVersion(text);
  if (version === 4) return Buffer.from(text.split('.').map(Number));
  if (version === 6) return ipv6ToBytes(text);
  throw new InvalidAddressError(text, 'is neither an IPv4 nor an IPv6 address');
}

function ipv6ToBytes(text: string): Buffer {
  let rest = text.split('%')[0]!;
  const tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two 16-bit groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    rest = rest.slice(0, -v4[1]!.length);
    if (rest.endsWith(':') && !rest.endsWith('::')) rest = rest.slice(0, -1);
  }
  const [head, after] = rest.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = after === undefined ? [] : parse(after);
  const fill = after === undefined ? 0 : 8 - left.length - right.length - tail.length;
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right, ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // RFC 5952: compress the longest run (two or more) of zero groups, the first if tied.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

const bits = (version: IpVersion): number => (version === 4 ? 32 : 128);

export function ipToBigInt(text: string): { version: IpVersion; value: bigint } {
  const bytes = ipToBytes(text);
  return { version: bytes.length === 4 ? 4 : 6, value: BigInt('0x' + bytes.toString('hex')) };
}

export function bigIntToIp(value: bigint, version: IpVersion): string {
  if (version === 4) {
    // The allocator's hot path: plain arithmetic, no string or Buffer round trip.
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  return bytesToIp(Buffer.from(value.toString(16).padStart(32, '0'), 'hex'));
}

/** A CIDR prefix with its host bits zero. */
export interface Prefix {
  version: IpVersion;
  /** The network address. */
  base: bigint;
  length: number;
}

/**
 * Parses "10.1.0.0/16". Host bits must be zero (as Docker requires of --subnet) unless
 * `allowHostBits`, which is for "address/prefix" forms such as an interface address.
 */
export function parsePrefix(text: string, allowHostBits = false): Prefix {
  if (typeof text !== 'string') throw new InvalidAddressError(text, 'must be a string like 10.1.0.0/16');
  const parts = text.split('/');
  if (parts.length !== 2 || !/^\d{1,3}$/.test(parts[1]!)) throw new InvalidAddressError(text, 'must be CIDR notation like 10.1.0.0/16 or 2001:db8::/64');
  const version = ipVersion(parts[0]!);
  if (version === 0) throw new InvalidAddressError(text, `"${parts[0]}" is not an IP address`);
  const length = Number(parts[1]);
  if (length > bits(version)) throw new InvalidAddressError(text, `prefix length must be 0 to ${bits(version)} for IPv${version}`);
  const { value } = ipToBigInt(parts[0]!);
  const base = value & ~hostMask(version, length);
  if (!allowHostBits && base !== value) {
    throw new InvalidAddressError(text, `has host bits set; the network is ${formatPrefix({ version, base, length })}`);
  }
  return { version, base, length };
}

function hostMask(version: IpVersion, length: number): bigint {
  return (1n << BigInt(bits(version) - length)) - 1n;
}

export function formatPrefix(prefix: Prefix): string {
  return `${bigIntToIp(prefix.base, prefix.version)}/${prefix.length}`;
}

/** Number of addresses in the prefix. */
export function prefixSize(prefix: Prefix): bigint {
  return 1n << BigInt(bits(prefix.version) - prefix.length);
}

export function lastAddress(prefix: Prefix): bigint {
  return prefix.base + prefixSize(prefix) - 1n;
}

export function prefixContains(prefix: Prefix, version: IpVersion, value: bigint): boolean {
  return version === prefix.version && value >= prefix.base && value <= lastAddress(prefix);
}

/** True when `inner` lies entirely inside `outer`. */
export function prefixWithin(inner: Prefix, outer: Prefix): boolean {
  return inner.version === outer.version && inner.length >= outer.length && prefixContains(outer, inner.version, inner.base);
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return a.version === b.version && a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** The prefixes of length `length` that `prefix` splits into, in order. */
export function* subdivide(prefix: Prefix, length: number): Generator<Prefix> {
  if (length < prefix.length) return;
  const step = 1n << BigInt(bits(prefix.version) - length);
  for (let base = prefix.base; base <= lastAddress(prefix); base += step) yield { version: prefix.version, base, length };
}

/** "10.0.0.5/24" → "10.0.0.5": the address of a CIDR as Docker shows gateways and endpoints. */
export const addressOf = (cidr: string): string => cidr.slice(0, cidr.indexOf('/'));
