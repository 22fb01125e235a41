// One overlay network's data plane on one host: a namespace of its own holding a bridge (br0)
// and a VXLAN device, and a veth per local endpoint from the bridge to the host, which the core
// hands to the container. The VXLAN device is made from the host's namespace, so its UDP socket
// stays on the underlay while the device lives in the overlay namespace. Remote endpoints are
// programmed, not learnt: a static FDB entry (MAC → VTEP) and a permanent neighbour (IP → MAC),
// which the device's proxy ARP answers from, so no broadcast crosses the underlay.
import fs from 'node:fs';
import path from 'node:path';
import { createNamespace, deleteNamespace, NamespaceError } from '../../native/netns';
import { type Link, type Neighbour, type NetlinkHandle, NetlinkHandle as Handle, NetlinkError } from '../../netlink';
import { unlessGone } from '../links';

export const VXLAN_PORT = 4789;
/** VXLAN over IPv4: outer IP (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;
const BRIDGE = 'br0';
const VXLAN = 'vxlan0';

export interface Peer {
  /** The remote endpoint's address, bare ("10.0.0.3"). */
  ip: string;
  mac: string;
  /** The underlay address of the host it is on. */
  vtep: string;
}

export interface DataPlaneConfig {
  networkId: string;
  vni: number;
  /** This host's underlay address: the VXLAN source. */
  vtep: string;
  /** undefined: the underlay device's MTU − 50. */
  mtu?: number;
  /** Where overlay namespaces are mounted (under the controller's run dir). */
  namespaceDir: string;
  /** The host's namespace: underlay, and where endpoint interfaces are handed over. */
  host: NetlinkHandle;
}

/** The overlay namespace's name for a network. */
export const namespaceName = (networkId: string): string => `ov-${networkId}`;

/** The veth ends of an endpoint: in the host's namespace (handed to the core) and on the bridge. */
export function vethNames(endpointId: string): { host: string; bridgePort: string } {
  const tag = endpointId.slice(0, 11);
  return { host: `ovh${tag}`, bridgePort: `ovb${tag}` };
}

const ignoreMissing = (error: unknown): void => {
  if (!(error instanceof NetlinkError && ['ENOENT', 'ESRCH'].includes(error.code))) throw error;
};

export class OverlayDataPlane {
  private constructor(
    readonly config: DataPlaneConfig,
    readonly nsPath: string,
    readonly mtu: number,
    private readonly ns: NetlinkHandle,
  ) {}

  /** Builds the namespace, bridge and VXLAN device; on failure removes what it made. */
  static async create(config: DataPlaneConfig): Promise<OverlayDataPlane> {
    const mtu = config.mtu ?? (await underlayMtu(config.host, config.vtep)) - VXLAN_OVERHEAD;
    const nsPath = createNamespace(config.namespaceDir, namespaceName(config.networkId));
    let ns: NetlinkHandle | undefined;
    try {
      ns = Handle.open({ netns: nsPath });
      await ns.linkSetUp('lo');
      await ns.linkAdd({ kind: 'bridge', name: BRIDGE, mtu, up: true });
      await config.host.linkAddInNamespace({ kind: 'vxlan', name: VXLAN, vni: config.vni, local: config.vtep, port: VXLAN_PORT, learning: false, proxy: true, l2miss: false, l3miss: false, mtu }, nsPath);
      await ns.linkSetMaster(VXLAN, BRIDGE);
      await ns.linkSetUp(VXLAN);
      return new OverlayDataPlane(config, nsPath, mtu, ns);
    } catch (error) {
      ns?.close();
      removeNamespace(nsPath);
      throw error;
    }
  }

  /** The data plane an earlier run left, if its namespace is still there (restart). */
  static async adopt(config: DataPlaneConfig): Promise<OverlayDataPlane | undefined> {
    const nsPath = path.join(config.namespaceDir, namespaceName(config.networkId));
    if (!fs.existsSync(nsPath)) return undefined;
    const ns = Handle.open({ netns: nsPath });
    try {
      return new OverlayDataPlane(config, nsPath, (await ns.linkGet(BRIDGE)).mtu, ns);
    } catch (error) {
      ns.close();
      throw error;
    }
  }

  /** A veth for the endpoint: returns the name of its end in the host's namespace. */
  async addEndpoint(endpointId: string, mac: string): Promise<string> {
    const names = vethNames(endpointId);
    await this.ns.linkAdd({ kind: 'veth', name: names.bridgePort, mtu: this.mtu, master: BRIDGE, up: true, peer: { name: names.host, mac, mtu: this.mtu, netns: hostNamespaceOf(this.config.host) } });
    return names.host;
  }

  /** Removes the endpoint's veth (both ends, wherever the other end went); gone already is fine. */
  async removeEndpoint(endpointId: string): Promise<void> {
    await this.ns.linkDel(vethNames(endpointId).bridgePort).catch(unlessGone);
  }

  /** The endpoints with a veth on the bridge. */
  async endpointPorts(): Promise<string[]> {
    return (await this.ns.linkList()).filter((l) => l.name.startsWith('ovb')).map((l) => l.name);
  }

  async addPeer(peer: Peer): Promise<void> {
    await this.ns.fdbReplace(VXLAN, { mac: peer.mac, destination: peer.vtep, target: 'self' });
    await this.ns.neighReplace(VXLAN, { ip: peer.ip, mac: peer.mac, state: 'permanent' });
  }

  /** Removes the peer's entries, unless the MAC or IP has since been given to another peer. */
  async removePeer(peer: Peer): Promise<void> {
    await this.ns.fdbDel(VXLAN, { mac: peer.mac, destination: peer.vtep, target: 'self' }).catch(ignoreMissing);
    const neighbour = (await this.ns.neighList({ link: VXLAN })).find((n) => n.ip === peer.ip);
    if (neighbour?.mac === peer.mac) await this.ns.neighDel(VXLAN, { ip: peer.ip }).catch(ignoreMissing);
  }

  /** Removes every peer behind `vtep` (its host was declared dead). */
  async removeVtep(vtep: string): Promise<void> {
    const macs = new Set<string>();
    for (const entry of await this.remoteFdb()) {
      if (entry.destination !== vtep) continue;
      macs.add(entry.mac);
      await this.ns.fdbDel(VXLAN, { mac: entry.mac, destination: vtep, target: 'self' }).catch(ignoreMissing);
    }
    for (const n of await this.programmedNeighbours()) {
      if (n.ip !== undefined && n.mac !== undefined && macs.has(n.mac)) await this.ns.neighDel(VXLAN, { ip: n.ip }).catch(ignoreMissing);
    }
  }

  /** Makes the programmed peers exactly `peers`: what a restart finds that is no longer true goes. */
  async reconcile(peers: readonly Peer[]): Promise<void> {
    const wantedFdb = new Set(peers.map((p) => `${p.mac} ${p.vtep}`));
    const wantedNeighbours = new Set(peers.map((p) => `${p.ip} ${p.mac}`));
    for (const entry of await this.remoteFdb()) {
      if (!wantedFdb.has(`${entry.mac} ${entry.destination}`)) await this.ns.fdbDel(VXLAN, { mac: entry.mac, destination: entry.destination, target: 'self' }).catch(ignoreMissing);
    }
    for (const n of await this.programmedNeighbours()) {
      if (n.ip !== undefined && !wantedNeighbours.has(`${n.ip} ${n.mac}`)) await this.ns.neighDel(VXLAN, { ip: n.ip }).catch(ignoreMissing);
    }
    for (const peer of peers) await this.addPeer(peer);
  }

  /** Removes the VXLAN device (freeing its VNI on the underlay socket), the bridge and the namespace. */
  async destroy(): Promise<void> {
    try {
      await this.ns.linkDel(VXLAN).catch(unlessGone);
      await this.ns.linkDel(BRIDGE).catch(unlessGone);
    } finally {
      this.ns.close();
      removeNamespace(this.nsPath);
    }
  }

  /** Peers' neighbour entries: permanent ones (the kernel's own, e.g. IPv6 multicast, are not). */
  private async programmedNeighbours(): Promise<Neighbour[]> {
    return (await this.ns.neighList({ link: VXLAN })).filter((n) => n.states.includes('permanent'));
  }

  /** The VXLAN device's entries that point at a remote VTEP (not the bridge's own entries for the port). */
  private async remoteFdb(): Promise<Array<{ mac: string; destination: string }>> {
    const vxlan = await this.ns.linkGet(VXLAN);
    return (await this.ns.fdbList({ link: vxlan.index }))
      .filter((e) => e.self && e.destination !== undefined)
      .map((e) => ({ mac: e.mac, destination: e.destination! }));
  }
}

/**
 * Removes the overlay namespaces under `namespaceDir` of networks not in `keep` (left by a crash
 * or a network deleted while the daemon was down); their links go with them.
 */
export function removeOrphanNamespaces(namespaceDir: string, keep: ReadonlySet<string>): void {
  if (!fs.existsSync(namespaceDir)) return;
  const wanted = new Set([...keep].map(namespaceName));
  for (const name of fs.readdirSync(namespaceDir)) {
    if (name.startsWith('ov-') && !wanted.has(name)) removeNamespace(path.join(namespaceDir, name));
  }
}

/** The MTU of the host's link that carries `vtep`. */
async function underlayMtu(host: NetlinkHandle, vtep: string): Promise<number> {
  const address = (await host.addrList()).find((a) => a.ip === vtep);
  if (!address) throw new Error(`no interface of this host has the advertise address ${vtep}; give an address the host has`);
  const link: Link = await host.linkGet(address.linkIndex);
  return link.mtu;
}

/** The namespace the host handle programs, as a path for IFLA_NET_NS_FD. */
function hostNamespaceOf(host: NetlinkHandle): string {
  return host.netns ?? `/proc/${process.pid}/ns/net`;
}

function removeNamespace(nsPath: string): void {
  try {
    deleteNamespace(nsPath);
  } catch (error) {
    // Not mounted (any more): the file alone is left, if anything.
    if (!(error instanceof NamespaceError && ['ENOENT', 'EINVAL'].includes(error.code))) throw error;
  }
  fs.rmSync(nsPath, { force: true });
}
