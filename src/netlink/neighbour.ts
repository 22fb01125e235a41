// Neighbours (ARP/NDP entries) and bridge forwarding-database entries: both are RTM_*NEIGH
// messages, the FDB ones with family AF_BRIDGE.
import { AttributeWriter, parseAttributes, readU32 } from './attributes';
import { AF, NDA, NTF, NUD } from './constants';
import { InvalidArgumentError } from './errors';
import { bytesToIp, bytesToMac, ipFamily, ipToBytes, macToBytes } from './validate';

export type NeighbourState = keyof typeof NUD;

export interface NeighbourSpec {
  ip: string;
  /** Required except for proxy entries. */
  mac?: string;
  /** Default 'permanent': entries netctl programs must not age out. */
  state?: NeighbourState;
  /** A proxy entry: answer ARP/NDP for `ip` on this link (NTF_PROXY). */
  proxy?: boolean;
}

export interface Neighbour {
  linkIndex: number;
  family: number;
  ip: string | undefined;
  mac: string | undefined;
  state: number;
  /** Names of the NUD_* bits set in `state`. */
  states: NeighbourState[];
  flags: number;
  proxy: boolean;
}

export interface FdbSpec {
  mac: string;
  /** Remote VTEP for a VXLAN device (NDA_DST). */
  destination?: string;
  /** 'self' programs the device's own table (VXLAN); 'master' the bridge it is enslaved to. */
  target?: 'self' | 'master';
  /** Default true: static entries that do not age. */
  permanent?: boolean;
  vni?: number;
  /** VLAN on a VLAN-filtering bridge. */
  vlan?: number;
}

export interface FdbEntry {
  linkIndex: number;
  mac: string;
  destination: string | undefined;
  vni: number | undefined;
  vlan: number | undefined;
  masterIndex: number | undefined;
  flags: number;
  state: number;
  self: boolean;
  master: boolean;
  permanent: boolean;
}

/** struct ndmsg: family, pad, pad, ifindex, state, flags, type. */
function encodeNdmsg(family: number, linkIndex: number, state: number, flags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family, 0);
  b.writeInt32LE(linkIndex, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

export function encodeNeighbour(linkIndex: number, spec: NeighbourSpec, forDelete: boolean): Buffer {
  const family = ipFamily(spec.ip);
  const state = spec.state ?? 'permanent';
  if (!(state in NUD)) throw new InvalidArgumentError('neighbour state', state, `must be one of ${Object.keys(NUD).join(', ')}`);
  if (!forDelete && !spec.proxy && spec.mac === undefined) throw new InvalidArgumentError('neighbour MAC', spec.mac, `is required for ${spec.ip} (only proxy entries go without)`);
  const w = new AttributeWriter().bytes(NDA.DST, ipToBytes(spec.ip));
  if (spec.mac !== undefined && !forDelete) w.bytes(NDA.LLADDR, macToBytes(spec.mac));
  return Buffer.concat([encodeNdmsg(family, linkIndex, forDelete ? 0 : NUD[state], spec.proxy ? NTF.PROXY : 0), w.toBuffer()]);
}

export function encodeNeighbourDump(family: number, linkIndex: number, proxy: boolean): Buffer {
  const w = new AttributeWriter();
  // Under strict checking the kernel filters by interface when asked with NDA_IFINDEX.
  if (linkIndex > 0) w.u32(NDA.IFINDEX, linkIndex);
  return Buffer.concat([encodeNdmsg(family, 0, 0, proxy ? NTF.PROXY : 0), w.toBuffer()]);
}

/** The ndmsg header and attributes shared by neighbour and FDB messages. */
function decodeNdmsg(payload: Buffer): { family: number; linkIndex: number; state: number; flags: number; attrs: ReturnType<typeof parseAttributes> } {
  return { family: payload.readUInt8(0), linkIndex: payload.readInt32LE(4), state: payload.readUInt16LE(8), flags: payload.readUInt8(10), attrs: parseAttributes(payload, 12) };
}

function stateNames(state: number): NeighbourState[] {
  return (Object.entries(NUD) as Array<[NeighbourState, number]>).filter(([, bit]) => state & bit).map(([name]) => name);
}

export function decodeNeighbour(payload: Buffer): Neighbour {
  const { family, linkIndex, state, flags, attrs } = decodeNdmsg(payload);
  const dst = attrs.get(NDA.DST);
  const lladdr = attrs.get(NDA.LLADDR);
  return {
    linkIndex,
    family,
    ip: dst ? bytesToIp(dst) : undefined,
    mac: lladdr && lladdr.length === 6 ? bytesToMac(lladdr) : undefined,
    state,
    states: stateNames(state),
    flags,
    proxy: (flags & NTF.PROXY) !== 0,
  };
}

export function encodeFdb(linkIndex: number, spec: FdbSpec, forDelete: boolean): Buffer {
  const target = spec.target ?? 'self';
  if (target !== 'self' && target !== 'master') throw new InvalidArgumentError('FDB target', target, "must be 'self' or 'master'");
  if (spec.vni !== undefined && (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni > 0xffffff)) throw new InvalidArgumentError('VNI', spec.vni, 'must be an integer from 0 to 16777215');
  if (spec.vlan !== undefined && (!Number.isInteger(spec.vlan) || spec.vlan < 1 || spec.vlan > 4094)) throw new InvalidArgumentError('VLAN id', spec.vlan, 'must be an integer from 1 to 4094');
  // NOARP marks a static entry; PERMANENT additionally keeps it from ageing (bridge fdb's "permanent").
  const state = spec.permanent === false ? NUD.noarp : NUD.permanent | NUD.noarp;
  const w = new AttributeWriter().bytes(NDA.LLADDR, macToBytes(spec.mac));
  if (spec.destination !== undefined) w.bytes(NDA.DST, ipToBytes(spec.destination, 'FDB destination'));
  if (spec.vni !== undefined) w.u32(NDA.VNI, spec.vni);
  if (spec.vlan !== undefined) w.u16(NDA.VLAN, spec.vlan);
  return Buffer.concat([encodeNdmsg(AF.BRIDGE, linkIndex, forDelete ? 0 : state, target === 'self' ? NTF.SELF : NTF.MASTER), w.toBuffer()]);
}

export function encodeFdbDump(): Buffer {
  return encodeNdmsg(AF.BRIDGE, 0, 0, 0);
}

export function decodeFdb(payload: Buffer): FdbEntry {
  const { linkIndex, state, flags, attrs } = decodeNdmsg(payload);
  const dst = attrs.get(NDA.DST);
  const lladdr = attrs.get(NDA.LLADDR);
  const vlan = attrs.get(NDA.VLAN);
  return {
    linkIndex,
    mac: lladdr ? bytesToMac(lladdr) : '',
    destination: dst ? bytesToIp(dst) : undefined,
    vni: readU32(attrs.get(NDA.VNI)),
    vlan: vlan ? vlan.readUInt16LE(0) : undefined,
    masterIndex: readU32(attrs.get(NDA.MASTER)),
    flags,
    state,
    self: (flags & NTF.SELF) !== 0,
    master: (flags & NTF.MASTER) !== 0,
    permanent: (state & NUD.permanent) !== 0,
  };
}
