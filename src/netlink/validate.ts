// Checks done before a request reaches the kernel, so errors name the value and the rule.
import { bigIntToIp, bytesToIp, ipToBigInt, ipToBytes as addressToBytes, ipVersion, parsePrefix } from '../ip/address';
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
  const version = ipVersion(ip);
  if (version === 4) return AF.INET;
  if (version === 6) return AF.INET6;
  throw new InvalidArgumentError('IP address', ip, 'is neither an IPv4 nor an IPv6 address');
}

export function ipToBytes(ip: string, argument = 'IP address'): Buffer {
  if (ipVersion(ip) === 0) throw new InvalidArgumentError(argument, ip, 'is neither an IPv4 nor an IPv6 address');
  return addressToBytes(ip);
}

export { bytesToIp };

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
  const version = ipVersion(ip);
  if (version === 0) throw new InvalidArgumentError(argument, text, `"${ip}" is not an IP address`);
  const max = version === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!/^\d{1,3}$/.test(prefix ?? String(max)) || prefixLength > max) throw new InvalidArgumentError(argument, text, `prefix length must be 0 to ${max}`);
  return { ip, prefixLength, family: version === 4 ? AF.INET : AF.INET6 };
}

/** The IPv4 broadcast address of a prefix (`ip addr add ... brd +`). */
export function ipv4Broadcast(ip: string, prefixLength: number): string {
  const { value } = ipToBigInt(ip);
  return bigIntToIp(value | ((1n << BigInt(32 - prefixLength)) - 1n), 4);
}

/** Zeroes the host bits: the kernel refuses routes whose destination has them set. */
export function networkAddress(ip: string, prefixLength: number): string {
  const prefix = parsePrefix(`${ip}/${prefixLength}`, true);
  return bigIntToIp(prefix.base, prefix.version);
}
