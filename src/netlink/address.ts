// Interface addresses (RTM_NEWADDR/DELADDR/GETADDR), IPv4 and IPv6.
import { AttributeWriter, parseAttributes, readString, readU32, readU8 } from './attributes';
import { AF, IFA, IFA_F_NODAD, RT_SCOPE } from './constants';
import { InvalidArgumentError } from './errors';
import { bytesToIp, ipToBytes, ipv4Broadcast, parseCidr } from './validate';

export type Scope = keyof typeof RT_SCOPE;

export interface AddressSpec {
  /** "10.0.0.2/24" or "2001:db8::2/64". */
  address: string;
  /** IPv4 broadcast; computed from the prefix unless given ('none' for none), as `ip addr add ... brd +`. */
  broadcast?: string | 'none';
  scope?: Scope;
  /** IPv4 label, e.g. "eth0:1"; must start with the interface name. */
  label?: string;
  /** IPv6: skip duplicate address detection so the address is usable at once (containers). */
  noDad?: boolean;
  /**
   * Who added the address (IFA_PROTO, 0–255; Linux ≥ 5.18), as `ip address add ... proto N`: a
   * mark that tells a program's addresses from an admin's on a shared device.
   */
  protocol?: number;
}

export interface Address {
  linkIndex: number;
  family: typeof AF.INET | typeof AF.INET6;
  /** "10.0.0.2/24". */
  address: string;
  ip: string;
  prefixLength: number;
  broadcast: string | undefined;
  scope: Scope | number;
  label: string | undefined;
  flags: number;
  /** IFA_PROTO; 0 when the kernel reported none. */
  protocol: number;
}

const SCOPE_NAMES = new Map<number, Scope>(Object.entries(RT_SCOPE).map(([k, v]) => [v, k as Scope]));

/** struct ifaddrmsg: family, prefixlen, flags, scope, index. */
function encodeIfaddr(family: number, prefixLength: number, scope: number, linkIndex: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLength, 1);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(linkIndex, 4);
  return b;
}

export function encodeAddress(linkIndex: number, spec: AddressSpec): Buffer {
  const cidr = parseCidr(spec.address, 'address');
  if (spec.scope !== undefined && !(spec.scope in RT_SCOPE)) throw new InvalidArgumentError('address scope', spec.scope, `must be one of ${Object.keys(RT_SCOPE).join(', ')}`);
  // Labels are interface names with an optional ":suffix" (eth0:1), so ':' is allowed here.
  if (spec.label !== undefined && (Buffer.byteLength(spec.label) > 15 || !/^[^\s/]+$/.test(spec.label))) {
    throw new InvalidArgumentError('address label', spec.label, "must be at most 15 bytes without whitespace or '/', like eth0:1");
  }
  if (spec.protocol !== undefined && !(Number.isInteger(spec.protocol) && spec.protocol >= 0 && spec.protocol <= 255)) {
    throw new InvalidArgumentError('address protocol', spec.protocol, 'must be an integer from 0 to 255');
  }
  const ip = ipToBytes(cidr.ip);
  const w = new AttributeWriter();
  if (cidr.family === AF.INET) {
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's (the same when point-to-multipoint).
    w.bytes(IFA.LOCAL, ip).bytes(IFA.ADDRESS, ip);
    const broadcast = spec.broadcast ?? (cidr.prefixLength < 31 ? ipv4Broadcast(cidr.ip, cidr.prefixLength) : 'none');
    if (broadcast !== 'none') w.bytes(IFA.BROADCAST, ipToBytes(broadcast, 'broadcast address'));
    if (spec.label !== undefined) w.string(IFA.LABEL, spec.label);
  } else {
    w.bytes(IFA.ADDRESS, ip);
    if (spec.noDad) w.u32(IFA.FLAGS, IFA_F_NODAD);
  }
  if (spec.protocol !== undefined) w.u8(IFA.PROTO, spec.protocol);
  return Buffer.concat([encodeIfaddr(cidr.family, cidr.prefixLength, RT_SCOPE[spec.scope ?? 'universe'], linkIndex), w.toBuffer()]);
}

/** The dump request: strict checking lets the kernel filter by interface for us. */
export function encodeAddressDump(family: number, linkIndex = 0): Buffer {
  return encodeIfaddr(family, 0, 0, linkIndex);
}

export function decodeAddress(payload: Buffer): Address {
  const family = payload.readUInt8(0) as typeof AF.INET | typeof AF.INET6;
  const prefixLength = payload.readUInt8(1);
  const scope = payload.readUInt8(3);
  const attrs = parseAttributes(payload, 8);
  const local = attrs.get(IFA.LOCAL) ?? attrs.get(IFA.ADDRESS);
  const ip = local ? bytesToIp(local) : '';
  const broadcast = attrs.get(IFA.BROADCAST);
  return {
    linkIndex: payload.readUInt32LE(4),
    family,
    address: `${ip}/${prefixLength}`,
    ip,
    prefixLength,
    broadcast: broadcast ? bytesToIp(broadcast) : undefined,
    scope: SCOPE_NAMES.get(scope) ?? scope,
    label: readString(attrs.get(IFA.LABEL)),
    flags: readU32(attrs.get(IFA.FLAGS)) ?? payload.readUInt8(2),
    protocol: readU8(attrs.get(IFA.PROTO)) ?? 0,
  };
}
