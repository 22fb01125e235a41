// Checks done before a request reaches the kernel, so errors name the value and the rule.
import net from 'node:net';
import { AF } from './constants';
import { InvalidArgumentError } from './errors';

/** IFNAMSIZ is 16 including the NUL; '/' and ':' and whitespace are rejected by dev_valid_name. */
export function checkLinkName(name: string, argument = 'link name'): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(argument, name, 'must be a non-empty string');
  if (Buffer.byteLength(name) > 15) throw new InvalidArgumentError(argument, name, 'is longer than 15 bytes (IFNAMSIZ)');
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) throw new InvalidArgumentError(argument, name, "must not be '.' or '..' or contain '/', ':' or whitespace");
  return name;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function macToBytes(mac: string, argument = 'MAC address'): Buffer {
  if (typeof mac !== 'string' || !MAC.test(mac)) throw new InvalidArgumentError(argument, mac, 'must be six hex bytes like 02:42:ac:11:00:02');
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

export function bytesToMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function ipFamily(ip: string): typeof AF.INET | typeof AF.INET6 {
  const version = net.isIP(ip);
  if (version === 4) return AF.INET;
  if (version === 6) return AF.INET6;
  throw new InvalidArgumentError('IP address', ip, 'is neither an IPv4 nor an IPv6 address');
}

export function ipToBytes(ip: string, argument = 'IP address'): Buffer {
  const version = net.isIP(ip);
  if (version === 4) return Buffer.from(ip.split('.').map(Number));
  if (version !== 6) throw new InvalidArgumentError(argument, ip, 'is neither an IPv4 nor an IPv6 address');
  return ipv6ToBytes(ip);
}

function ipv6ToBytes(ip: string): Buffer {
  let text = ip.split('%')[0]!;
  const tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two 16-bit groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - left.length - right.length - tail.length;
  const groups = [...left, ...new Array<number>(rest === undefined ? 0 : fill).fill(0), ...right, ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // RFC 5952: compress the longest run (of two or more) of zero groups.
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

export interface Cidr {
  ip: string;
  prefixLength: number;
  family: typeof AF.INET | typeof AF.INET6;
}

/** "10.0.0.1/24" → ip and prefix length; a bare address means a host prefix (/32 or /128). */
export function parseCidr(text: string, argument = 'CIDR'): Cidr {
  if (typeof text !== 'string') throw new InvalidArgumentError(argument, text, 'must be a string like 10.0.0.1/24');
  const [ip, prefix, extra] = text.split('/');
  if (extra !== undefined || ip === undefined) throw new InvalidArgumentError(argument, text, 'must look like 10.0.0.1/24 or 2001:db8::1/64');
  const version = net.isIP(ip);
  if (version === 0) throw new InvalidArgumentError(argument, text, `"${ip}" is not an IP address`);
  const max = version === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!/^\d{1,3}$/.test(prefix ?? String(max)) || prefixLength > max) throw new InvalidArgumentError(argument, text, `prefix length must be 0 to ${max}`);
  return { ip, prefixLength, family: version === 4 ? AF.INET : AF.INET6 };
}

/** The IPv4 broadcast address of a prefix (`ip addr add ... brd +`). */
export function ipv4Broadcast(ip: string, prefixLength: number): string {
  const value = ipToBytes(ip).readUInt32BE(0);
  const host = prefixLength === 0 ? 0xffffffff : (2 ** (32 - prefixLength) - 1) >>> 0;
  const out = Buffer.alloc(4);
  out.writeUInt32BE((value | host) >>> 0);
  return bytesToIp(out);
}

/** Zeroes the host bits: the kernel refuses routes whose destination has them set. */
export function networkAddress(ip: string, prefixLength: number): string {
  const bytes = ipToBytes(ip);
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return bytesToIp(bytes);
}
