// Routes (RTM_NEWROUTE/DELROUTE/GETROUTE), IPv4 and IPv6, any table.
import { AttributeWriter, parseAttributes, readU32 } from './attributes';
import { AF, RT_SCOPE, RT_TABLE, RTA, RTN, RTPROT } from './constants';
import { InvalidArgumentError } from './errors';
import type { Scope } from './address';
import { bytesToIp, ipFamily, ipToBytes, networkAddress, parseCidr } from './validate';

export type Protocol = keyof typeof RTPROT;

export interface RouteSpec {
  /** "10.1.0.0/16", "2001:db8::/64" or "default" (then `family` says which, IPv4 if omitted). */
  destination: string;
  family?: 'ipv4' | 'ipv6';
  gateway?: string;
  /** Output device. */
  link?: string | number;
  /** Defaults: 'link' for a route without gateway, else 'universe' (as `ip route` does). */
  scope?: Scope;
  /** Routing table number; main (254) by default. */
  table?: number;
  metric?: number;
  protocol?: Protocol;
  /** Preferred source address. */
  source?: string;
}

export interface Route {
  family: typeof AF.INET | typeof AF.INET6;
  /** "10.1.0.0/16" or "default". */
  destination: string;
  gateway: string | undefined;
  linkIndex: number | undefined;
  scope: Scope | number;
  table: number;
  metric: number | undefined;
  protocol: Protocol | number;
  type: number;
  source: string | undefined;
}

const SCOPE_NAMES = new Map<number, Scope>(Object.entries(RT_SCOPE).map(([k, v]) => [v, k as Scope]));
const PROTOCOL_NAMES = new Map<number, Protocol>(Object.entries(RTPROT).map(([k, v]) => [v, k as Protocol]));

interface Destination {
  family: typeof AF.INET | typeof AF.INET6;
  ip: string | undefined;
  prefixLength: number;
}

function parseDestination(spec: { destination: string; family?: 'ipv4' | 'ipv6' }): Destination {
  if (spec.destination === 'default') return { family: spec.family === 'ipv6' ? AF.INET6 : AF.INET, ip: undefined, prefixLength: 0 };
  const cidr = parseCidr(spec.destination, 'route destination');
  if (networkAddress(cidr.ip, cidr.prefixLength) !== cidr.ip) {
    throw new InvalidArgumentError('route destination', spec.destination, `has host bits set; did you mean ${networkAddress(cidr.ip, cidr.prefixLength)}/${cidr.prefixLength}?`);
  }
  return { family: cidr.family, ip: cidr.ip, prefixLength: cidr.prefixLength };
}

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags. */
function encodeRtmsg(family: number, dstLength: number, table: number, protocol: number, scope: number, type: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family, 0);
  b.writeUInt8(dstLength, 1);
  b.writeUInt8(table, 4);
  b.writeUInt8(protocol, 5);
  b.writeUInt8(scope, 6);
  b.writeUInt8(type, 7);
  return b;
}

/** The payload of an add/replace (forDelete = false) or a delete (true). */
export function encodeRoute(spec: RouteSpec, linkIndex: number | undefined, forDelete: boolean): Buffer {
  const destination = parseDestination(spec);
  if (spec.gateway !== undefined && ipFamily(spec.gateway) !== destination.family) {
    throw new InvalidArgumentError('gateway', spec.gateway, `is not of the destination's family (${spec.destination})`);
  }
  if (spec.scope !== undefined && !(spec.scope in RT_SCOPE)) throw new InvalidArgumentError('route scope', spec.scope, `must be one of ${Object.keys(RT_SCOPE).join(', ')}`);
  if (spec.protocol !== undefined && !(spec.protocol in RTPROT)) throw new InvalidArgumentError('route protocol', spec.protocol, `must be one of ${Object.keys(RTPROT).join(', ')}`);
  const table = spec.table ?? RT_TABLE.MAIN;
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) throw new InvalidArgumentError('route table', table, 'must be an integer from 1 to 4294967295');
  // A delete matches any scope, protocol and type unless told otherwise, as `ip route del` does.
  const scope = spec.scope !== undefined ? RT_SCOPE[spec.scope] : forDelete ? RT_SCOPE.nowhere : spec.gateway === undefined && linkIndex !== undefined ? RT_SCOPE.link : RT_SCOPE.universe;
  const protocol = spec.protocol !== undefined ? RTPROT[spec.protocol] : forDelete ? RTPROT.unspec : RTPROT.boot;
  const head = encodeRtmsg(destination.family, destination.prefixLength, table < 256 ? table : RT_TABLE.UNSPEC, protocol, scope, forDelete ? RTN.UNSPEC : RTN.UNICAST);
  const w = new AttributeWriter();
  if (destination.ip !== undefined) w.bytes(RTA.DST, ipToBytes(destination.ip));
  if (spec.gateway !== undefined) w.bytes(RTA.GATEWAY, ipToBytes(spec.gateway, 'gateway'));
  if (linkIndex !== undefined) w.u32(RTA.OIF, linkIndex);
  if (spec.metric !== undefined) w.u32(RTA.PRIORITY, spec.metric);
  if (spec.source !== undefined) w.bytes(RTA.PREFSRC, ipToBytes(spec.source, 'route source'));
  w.u32(RTA.TABLE, table);
  return Buffer.concat([head, w.toBuffer()]);
}

export function encodeRouteDump(family: number): Buffer {
  return encodeRtmsg(family, 0, 0, 0, 0, 0);
}

export function decodeRoute(payload: Buffer): Route {
  const family = payload.readUInt8(0) as typeof AF.INET | typeof AF.INET6;
  const dstLength = payload.readUInt8(1);
  const attrs = parseAttributes(payload, 12);
  const dst = attrs.get(RTA.DST);
  const gateway = attrs.get(RTA.GATEWAY);
  const source = attrs.get(RTA.PREFSRC);
  return {
    family,
    destination: dst ? `${bytesToIp(dst)}/${dstLength}` : dstLength === 0 ? 'default' : `?/${dstLength}`,
    gateway: gateway ? bytesToIp(gateway) : undefined,
    linkIndex: readU32(attrs.get(RTA.OIF)),
    scope: SCOPE_NAMES.get(payload.readUInt8(6)) ?? payload.readUInt8(6),
    table: readU32(attrs.get(RTA.TABLE)) ?? payload.readUInt8(4),
    metric: readU32(attrs.get(RTA.PRIORITY)),
    protocol: PROTOCOL_NAMES.get(payload.readUInt8(5)) ?? payload.readUInt8(5),
    type: payload.readUInt8(7),
    source: source ? bytesToIp(source) : undefined,
  };
}
