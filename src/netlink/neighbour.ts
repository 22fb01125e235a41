// Neighbours (ARP/NDP entries): RTM_*NEIGH messages of family AF_INET/AF_INET6. The ndmsg
// header codec is shared with the bridge FDB (fdb.ts), which uses the same messages.
import { AttributeWriter, parseAttributes } from './attributes';
import { NDA, NTF, NUD } from './constants';
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

/** struct ndmsg: family, pad, pad, ifindex, state, flags, type. */
export function encodeNdmsg(family: number, linkIndex: number, state: number, flags: number): Buffer {
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
export function decodeNdmsg(payload: Buffer): { family: number; linkIndex: number; state: number; flags: number; attrs: ReturnType<typeof parseAttributes> } {
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
