// Links: typed kinds, the RTM_NEWLINK request that creates each, and the decoder of dumps.
import fs from 'node:fs';
import { AttributeWriter, parseAttributes, readBe16, readI32, readString, readU16, readU32, readU8 } from './attributes';
import { ADDR_GEN_MODE, AF, IFF_UP, IFLA, IFLA_BRPORT, IFLA_INET6_ADDR_GEN_MODE, NLA_F_NESTED, IFLA_BR, IFLA_INFO, IFLA_MACVLAN_MODE, IFLA_VLAN_ID, IFLA_VXLAN, MACVLAN_MODE, OPERSTATES, VETH_INFO_PEER } from './constants';
import { InvalidArgumentError } from './errors';
import { bytesToIp, bytesToMac, checkLinkName, ipToBytes, macToBytes } from './validate';

export type MacvlanMode = keyof typeof MACVLAN_MODE;

/** A link named by name or by index. */
export type LinkRef = string | number;

/**
 * A network namespace: its path (a bind mount like /run/netns/x, opened for the request), or a
 * descriptor the caller keeps open for as long as the request runs.
 */
export type NamespaceRef = string | number;

/** Indices of the links a spec names, looked up by the handle before encoding. */
export interface ResolvedRefs {
  master?: number;
  parent?: number;
  device?: number;
}

interface CommonLinkSpec {
  name: string;
  /**
   * The index the new link gets in the namespace it is made in (the kernel picks one when
   * omitted). A caller that knows a free index saves looking the link up after creating it; an
   * index in use fails the create with EEXIST (EBUSY on older kernels).
   */
  index?: number;
  mtu?: number;
  mac?: string;
  /** Bring the link up as it is created. */
  up?: boolean;
  /** Enslave to this bridge at creation. */
  master?: LinkRef;
  txQueueLength?: number;
  /**
   * Transmit and receive queues the device is made with (IFLA_NUM_TX/RX_QUEUES); the kernel's
   * default when omitted (a veth: one per possible CPU, all but one of them left unused).
   */
  queues?: number;
  /**
   * The link's group (IFLA_GROUP). Unlike the alias, the kernel takes it in the create request
   * itself, so a link marked by its group is never seen unmarked.
   */
  group?: number;
  /** IPv6 address generation of the new link, set before anything can bring its carrier up. */
  addrGenMode?: AddrGenMode;
  /** Bridge port settings, with `master`. */
  bridgePort?: BridgePortSettings;
}

export type AddrGenMode = keyof typeof ADDR_GEN_MODE;

/**
 * Settings of a bridge port: hairpin lets a frame leave by the port it came in on (a container
 * reaching its own published port via the host), learning and unicast flooding can be turned off
 * where the FDB is programmed instead (overlay).
 */
export interface BridgePortSettings {
  hairpin?: boolean;
  learning?: boolean;
  flood?: boolean;
}

export interface VethSpec extends CommonLinkSpec {
  kind: 'veth';
  peer: {
    name: string;
    /** Create the peer directly inside this network namespace. */
    netns?: NamespaceRef;
    mac?: string;
    mtu?: number;
    group?: number;
    queues?: number;
  };
}

export interface BridgeSpec extends CommonLinkSpec {
  kind: 'bridge';
  /** Seconds a learned MAC is kept (kernel default 300). */
  ageingTime?: number;
  /** Spanning tree; off unless asked for, as container bridges have no loops. */
  stp?: boolean;
  vlanFiltering?: boolean;
}

export interface VxlanSpec extends CommonLinkSpec {
  kind: 'vxlan';
  vni: number;
  /** Source (VTEP) address of encapsulated packets. */
  local?: string;
  /** Underlay device (IFLA_VXLAN_LINK). */
  device?: LinkRef;
  /** UDP destination port; 4789 (IANA) unless given. */
  port?: number;
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  ttl?: number;
  udpChecksum?: boolean;
}

export interface MacvlanSpec extends CommonLinkSpec {
  kind: 'macvlan';
  parent: LinkRef;
  mode?: MacvlanMode;
}

export interface VlanSpec extends CommonLinkSpec {
  kind: 'vlan';
  parent: LinkRef;
  vlanId: number;
}

export interface DummySpec extends CommonLinkSpec {
  kind: 'dummy';
}

export type LinkSpec = VethSpec | BridgeSpec | VxlanSpec | MacvlanSpec | VlanSpec | DummySpec;
export type LinkKind = LinkSpec['kind'];
export const LINK_KINDS: readonly LinkKind[] = ['veth', 'bridge', 'vxlan', 'macvlan', 'vlan', 'dummy'];

export interface Link {
  index: number;
  name: string;
  /** '' for links without a kind (lo, physical devices). */
  kind: string;
  mtu: number;
  mac: string | undefined;
  up: boolean;
  flags: number;
  operstate: (typeof OPERSTATES)[number];
  masterIndex: number | undefined;
  /** IFLA_LINK: the parent (macvlan, vlan) or the veth peer's index. */
  parentIndex: number | undefined;
  /** Set when the parent/peer lives in another namespace (its netnsid there). */
  linkNetnsId: number | undefined;
  alias: string | undefined;
  /** IFLA_GROUP; 0 unless someone set one. */
  group: number;
  bridge?: { ageingTime: number | undefined; stp: boolean | undefined; vlanFiltering: boolean | undefined };
  vxlan?: { vni: number; port: number | undefined; local: string | undefined; deviceIndex: number | undefined; learning: boolean; proxy: boolean; l2miss: boolean; l3miss: boolean; ttl: number | undefined; udpChecksum: boolean };
  macvlan?: { mode: MacvlanMode | undefined };
  vlan?: { vlanId: number | undefined };
}

/** struct ifinfomsg: family, type, index, flags, change. */
export function encodeIfinfo(index: number, flags = 0, change = 0, family: number = AF.UNSPEC): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

function checkRange(argument: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new InvalidArgumentError(argument, value, `must be an integer from ${min} to ${max}`);
  }
}

/**
 * Opens the namespace files a request refers to by path; the caller closes them once the kernel
 * has answered (the kernel resolves IFLA_NET_NS_FD while handling the request). Descriptors given
 * by the caller stay the caller's.
 */
export class NamespaceFds {
  private readonly fds: number[] = [];

  open(nsPath: NamespaceRef): number {
    if (typeof nsPath === 'number') return nsPath;
    try {
      const fd = fs.openSync(nsPath, 'r');
      this.fds.push(fd);
      return fd;
    } catch (error) {
      throw new InvalidArgumentError('network namespace', nsPath, `cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'}); create it first`);
    }
  }

  close(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }
}

/** The bridge port attributes of `settings`, nested in IFLA_PROTINFO or IFLA_INFO_SLAVE_DATA. */
export function writeBridgePort(w: AttributeWriter, settings: BridgePortSettings): void {
  if (settings.hairpin !== undefined) w.u8(IFLA_BRPORT.MODE, settings.hairpin ? 1 : 0);
  if (settings.learning !== undefined) w.u8(IFLA_BRPORT.LEARNING, settings.learning ? 1 : 0);
  if (settings.flood !== undefined) w.u8(IFLA_BRPORT.UNICAST_FLOOD, settings.flood ? 1 : 0);
}

export function writeAddrGenMode(w: AttributeWriter, mode: AddrGenMode): void {
  w.nested(IFLA.AF_SPEC, (spec) => spec.nested(AF.INET6, (inet6) => inet6.u8(IFLA_INET6_ADDR_GEN_MODE, ADDR_GEN_MODE[mode])));
}

/**
 * The settings a create request cannot carry (the kernel applies them only to a link that exists),
 * as one RTM_NEWLINK naming the new link, to follow the create in its datagram; undefined if none.
 */
export function encodeLinkSettings(spec: LinkSpec): Buffer | undefined {
  if (spec.addrGenMode === undefined && spec.bridgePort === undefined) return undefined;
  if (spec.bridgePort !== undefined && spec.master === undefined) throw new InvalidArgumentError('bridgePort', spec.bridgePort, 'needs a master bridge');
  const w = new AttributeWriter().string(IFLA.IFNAME, spec.name);
  // The port's settings go to its master as slave data, which a request by name can carry.
  if (spec.bridgePort) w.nested(IFLA.LINKINFO, (info) => info.nested(IFLA_INFO.SLAVE_DATA, (port) => writeBridgePort(port, spec.bridgePort!)));
  if (spec.addrGenMode !== undefined) writeAddrGenMode(w, spec.addrGenMode);
  return Buffer.concat([encodeIfinfo(0), w.toBuffer()]);
}

function common(w: AttributeWriter, spec: { mtu?: number; mac?: string; txQueueLength?: number; group?: number; queues?: number }): void {
  checkRange('queue count', spec.queues, 1, 4096);
  if (spec.mtu !== undefined) w.u32(IFLA.MTU, spec.mtu);
  if (spec.queues !== undefined) w.u32(IFLA.NUM_TX_QUEUES, spec.queues).u32(IFLA.NUM_RX_QUEUES, spec.queues);
  if (spec.group !== undefined) w.u32(IFLA.GROUP, spec.group);
  if (spec.mac !== undefined) w.bytes(IFLA.ADDRESS, macToBytes(spec.mac));
  if (spec.txQueueLength !== undefined) w.u32(IFLA.TXQLEN, spec.txQueueLength);
}

/** The RTM_NEWLINK payload creating `spec`: one request, so a failure leaves nothing behind. */
export function encodeLinkCreate(spec: LinkSpec, refs: ResolvedRefs, namespaces: NamespaceFds, netns?: NamespaceRef): Buffer {
  if (!LINK_KINDS.includes((spec as { kind: string }).kind as LinkKind)) {
    throw new InvalidArgumentError('link kind', (spec as { kind: string }).kind, `must be one of ${LINK_KINDS.join(', ')}`);
  }
  checkLinkName(spec.name);
  checkRange('MTU', spec.mtu, 68, 65535);
  checkRange('link index', spec.index, 1, 0x7fffffff);
  checkRange('link group', spec.group, 0, 0xffffffff);
  const w = new AttributeWriter().string(IFLA.IFNAME, spec.name);
  common(w, spec);
  if (refs.master !== undefined) w.u32(IFLA.MASTER, refs.master);
  if (refs.parent !== undefined) w.u32(IFLA.LINK, refs.parent);
  if (netns !== undefined) w.u32(IFLA.NET_NS_FD, namespaces.open(netns));
  w.nested(IFLA.LINKINFO, (info) => {
    info.string(IFLA_INFO.KIND, spec.kind);
    const data = kindData(spec, refs, namespaces);
    if (data) info.bytes(IFLA_INFO.DATA | NLA_F_NESTED, data);
  });
  const head = spec.up ? encodeIfinfo(spec.index ?? 0, IFF_UP, IFF_UP) : encodeIfinfo(spec.index ?? 0);
  return Buffer.concat([head, w.toBuffer()]);
}

function kindData(spec: LinkSpec, refs: ResolvedRefs, namespaces: NamespaceFds): Buffer | undefined {
  const d = new AttributeWriter();
  switch (spec.kind) {
    case 'veth': {
      checkLinkName(spec.peer.name, 'veth peer name');
      checkRange('peer MTU', spec.peer.mtu, 68, 65535);
      const peer = new AttributeWriter().string(IFLA.IFNAME, spec.peer.name);
      common(peer, spec.peer);
      if (spec.peer.netns !== undefined) peer.u32(IFLA.NET_NS_FD, namespaces.open(spec.peer.netns));
      // VETH_INFO_PEER holds a whole ifinfomsg followed by the peer's attributes.
      d.bytes(VETH_INFO_PEER, Buffer.concat([encodeIfinfo(0), peer.toBuffer()]));
      break;
    }
    case 'bridge':
      checkRange('bridge ageing time', spec.ageingTime, 0, 1_000_000);
      // The kernel counts ageing in clock_t (centiseconds).
      if (spec.ageingTime !== undefined) d.u32(IFLA_BR.AGEING_TIME, spec.ageingTime * 100);
      d.u32(IFLA_BR.STP_STATE, spec.stp ? 1 : 0);
      // Sent only when asked: kernels built without bridge VLAN filtering refuse the attribute
      // (EOPNOTSUPP) even to turn it off, and off is the default.
      if (spec.vlanFiltering !== undefined) d.u8(IFLA_BR.VLAN_FILTERING, spec.vlanFiltering ? 1 : 0);
      break;
    case 'vxlan':
      checkRange('VNI', spec.vni, 0, 0xffffff);
      checkRange('VXLAN port', spec.port, 1, 65535);
      checkRange('VXLAN TTL', spec.ttl, 0, 255);
      d.u32(IFLA_VXLAN.ID, spec.vni);
      if (spec.local !== undefined) {
        const local = ipToBytes(spec.local, 'VXLAN local address');
        d.bytes(local.length === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, local);
      }
      if (refs.device !== undefined) d.u32(IFLA_VXLAN.LINK, refs.device);
      d.be16(IFLA_VXLAN.PORT, spec.port ?? 4789);
      d.u8(IFLA_VXLAN.LEARNING, spec.learning === false ? 0 : 1);
      if (spec.proxy !== undefined) d.u8(IFLA_VXLAN.PROXY, spec.proxy ? 1 : 0);
      if (spec.l2miss !== undefined) d.u8(IFLA_VXLAN.L2MISS, spec.l2miss ? 1 : 0);
      if (spec.l3miss !== undefined) d.u8(IFLA_VXLAN.L3MISS, spec.l3miss ? 1 : 0);
      if (spec.ttl !== undefined) d.u8(IFLA_VXLAN.TTL, spec.ttl);
      if (spec.udpChecksum !== undefined) d.u8(IFLA_VXLAN.UDP_CSUM, spec.udpChecksum ? 1 : 0);
      break;
    case 'macvlan': {
      const mode = spec.mode ?? 'bridge';
      if (!(mode in MACVLAN_MODE)) throw new InvalidArgumentError('macvlan mode', mode, `must be one of ${Object.keys(MACVLAN_MODE).join(', ')}`);
      d.u32(IFLA_MACVLAN_MODE, MACVLAN_MODE[mode]);
      break;
    }
    case 'vlan':
      checkRange('VLAN id', spec.vlanId, 1, 4094);
      d.u16(IFLA_VLAN_ID, spec.vlanId);
      break;
    case 'dummy':
      return undefined;
  }
  return d.toBuffer();
}

const MACVLAN_MODE_NAMES = new Map<number, MacvlanMode>(Object.entries(MACVLAN_MODE).map(([k, v]) => [v, k as MacvlanMode]));

/** The index of an ifinfomsg payload, without decoding the rest. */
export function linkIndexOf(payload: Buffer): number {
  return payload.length >= 8 ? payload.readInt32LE(4) : 0;
}

/** The IFLA_IFNAME of an ifinfomsg payload, without decoding the rest. */
export function linkNameOf(payload: Buffer): string | undefined {
  return payload.length >= 16 ? readString(parseAttributes(payload, 16).get(IFLA.IFNAME)) : undefined;
}

/** Decodes an RTM_NEWLINK message payload (ifinfomsg + attributes). */
export function decodeLink(payload: Buffer): Link {
  const index = payload.readInt32LE(4);
  const flags = payload.readUInt32LE(8);
  const attrs = parseAttributes(payload, 16);
  const info = attrs.get(IFLA.LINKINFO);
  const infoAttrs = info ? parseAttributes(info) : new Map<number, Buffer>();
  const kind = readString(infoAttrs.get(IFLA_INFO.KIND)) ?? '';
  const dataBuffer = infoAttrs.get(IFLA_INFO.DATA);
  const data = dataBuffer ? parseAttributes(dataBuffer) : new Map<number, Buffer>();
  const mac = attrs.get(IFLA.ADDRESS);
  const link: Link = {
    index,
    name: readString(attrs.get(IFLA.IFNAME)) ?? '',
    kind,
    mtu: readU32(attrs.get(IFLA.MTU)) ?? 0,
    mac: mac && mac.length === 6 ? bytesToMac(mac) : undefined,
    up: (flags & IFF_UP) !== 0,
    flags,
    operstate: OPERSTATES[readU8(attrs.get(IFLA.OPERSTATE)) ?? 0] ?? 'unknown',
    masterIndex: readU32(attrs.get(IFLA.MASTER)),
    parentIndex: readU32(attrs.get(IFLA.LINK)),
    linkNetnsId: readI32(attrs.get(IFLA.LINK_NETNSID)),
    alias: readString(attrs.get(IFLA.IFALIAS)),
    group: readU32(attrs.get(IFLA.GROUP)) ?? 0,
  };
  if (kind === 'bridge') {
    const ageing = readU32(data.get(IFLA_BR.AGEING_TIME));
    const stp = readU32(data.get(IFLA_BR.STP_STATE));
    const vlanFiltering = readU8(data.get(IFLA_BR.VLAN_FILTERING));
    link.bridge = { ageingTime: ageing === undefined ? undefined : Math.round(ageing / 100), stp: stp === undefined ? undefined : stp !== 0, vlanFiltering: vlanFiltering === undefined ? undefined : vlanFiltering !== 0 };
  } else if (kind === 'vxlan') {
    const local = data.get(IFLA_VXLAN.LOCAL) ?? data.get(IFLA_VXLAN.LOCAL6);
    link.vxlan = {
      vni: readU32(data.get(IFLA_VXLAN.ID)) ?? 0,
      port: readBe16(data.get(IFLA_VXLAN.PORT)),
      local: local ? bytesToIp(local) : undefined,
      deviceIndex: readU32(data.get(IFLA_VXLAN.LINK)),
      learning: readU8(data.get(IFLA_VXLAN.LEARNING)) === 1,
      proxy: readU8(data.get(IFLA_VXLAN.PROXY)) === 1,
      l2miss: readU8(data.get(IFLA_VXLAN.L2MISS)) === 1,
      l3miss: readU8(data.get(IFLA_VXLAN.L3MISS)) === 1,
      ttl: readU8(data.get(IFLA_VXLAN.TTL)),
      udpChecksum: readU8(data.get(IFLA_VXLAN.UDP_CSUM)) === 1,
    };
  } else if (kind === 'macvlan') {
    const mode = readU32(data.get(IFLA_MACVLAN_MODE));
    link.macvlan = { mode: mode === undefined ? undefined : MACVLAN_MODE_NAMES.get(mode) };
  } else if (kind === 'vlan') {
    link.vlan = { vlanId: readU16(data.get(IFLA_VLAN_ID)) };
  }
  return link;
}
