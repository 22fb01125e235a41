// Bridge forwarding-database entries: RTM_*NEIGH messages of family AF_BRIDGE, on a bridge port
// (master) or on a device with its own table such as VXLAN (self), where they map a MAC to the
// remote VTEP that owns it.
import { AttributeWriter, readU32 } from './attributes';
import { AF, NDA, NTF, NUD } from './constants';
import { InvalidArgumentError } from './errors';
import { decodeNdmsg, encodeNdmsg } from './neighbour';
import { bytesToIp, bytesToMac, ipToBytes, macToBytes } from './validate';

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
  /** The bridge whose table holds the entry (NDA_MASTER), for entries of a bridge port. */
  masterIndex: number | undefined;
  flags: number;
  state: number;
  self: boolean;
  /** In the bridge's table: requests carry NTF_MASTER, dumps name the bridge in NDA_MASTER instead. */
  master: boolean;
  permanent: boolean;
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
  const masterIndex = readU32(attrs.get(NDA.MASTER));
  return {
    linkIndex,
    mac: lladdr ? bytesToMac(lladdr) : '',
    destination: dst ? bytesToIp(dst) : undefined,
    vni: readU32(attrs.get(NDA.VNI)),
    vlan: vlan ? vlan.readUInt16LE(0) : undefined,
    masterIndex,
    flags,
    state,
    self: (flags & NTF.SELF) !== 0,
    master: (flags & NTF.MASTER) !== 0 || masterIndex !== undefined,
    permanent: (state & NUD.permanent) !== 0,
  };
}
