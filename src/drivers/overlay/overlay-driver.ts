// The overlay driver: networks that span the cluster's hosts over VXLAN. The network itself
// (its record, its VNI) is global; on a host it exists as a data plane (dataplane.ts) only while
// the host has endpoints on it. Each join publishes the endpoint in the network's endpoint_table;
// the entries other hosts publish arrive through eventNotify and are programmed as peers, kept
// here too so a data plane made later starts with all of them. An entry whose VTEP is not a
// cluster member (as discoverNew/discoverDelete tell) is held back, counted and logged: nothing
// sends overlay traffic to an address outside the cluster; it is programmed if that host joins.
import type { NetlinkHandle } from '../../netlink';
import type { Logger } from '../../util/logger';
import { SerialQueue } from '../../util/serial';
import { type Capability, type Driver, type EndpointProposal, type EndpointSpec, type JoinInfo, type NetworkContext, type NetworkSpec, type NodeEvent, type PortMapping, type PublishedNames, type RestoreResult, type TableEvent } from '../driver';
import { type DataPlaneConfig, OverlayDataPlane, type Peer, removeOrphanNamespaces, vethNames } from './dataplane';
import { parseOverlayOptions, VXLANID_LIST } from './options';
import { addressOf, decodeEndpointRecord, ENDPOINT_TABLE, encodeEndpointRecord, type EndpointRecord } from './peer-codec';
import type { VniAllocator } from './vni';

export interface OverlayDriverDeps {
  /** The host's namespace: the underlay, and where joins hand interfaces over. */
  netlink: NetlinkHandle;
  /** This host's underlay address, as other hosts reach it (the VTEP). */
  advertiseAddress: string;
  /** Where overlay namespaces are mounted (the controller's run dir). */
  namespaceDir: string;
  vniAllocator: VniAllocator;
  log: Logger;
}

interface OverlayNetwork {
  vni: number;
  mtu: number | undefined;
  /** Remote endpoints by their table key: a peer per address (IPv4, IPv6). */
  peers: Map<string, Peer[]>;
  /** Entries naming a VTEP that is not a cluster member, by key: programmed if it joins. */
  held: Map<string, Peer[]>;
  /** Local endpoints joined. */
  joined: Set<string>;
  plane: OverlayDataPlane | undefined;
  /** The network's changes, one at a time: a join making the data plane and a peer event must not race. */
  queue: SerialQueue;
}

export class OverlayDriver implements Driver {
  readonly type = 'overlay';
  readonly capability: Capability = { dataScope: 'global', connectivityScope: 'global', createsInSandbox: false };
  readonly usesIpam = true;
  private readonly networks = new Map<string, OverlayNetwork>();
  /** Cluster members' addresses (this host's too), from discoverNew/discoverDelete. */
  private readonly members = new Set<string>();
  private ignored = 0;

  constructor(private readonly deps: OverlayDriverDeps) {}

  validateOptions(options: Readonly<Record<string, string>>): void {
    parseOverlayOptions(options);
  }

  /** The VNI shows as Docker shows it, once the network has one. */
  effectiveOptions(spec: NetworkSpec): Record<string, string> {
    const vni = this.networks.get(spec.id)?.vni;
    return { ...spec.options, ...(vni === undefined ? {} : { [VXLANID_LIST]: String(vni) }) };
  }

  interfacePrefix(): string {
    return 'eth';
  }

  async createNetwork(spec: NetworkSpec, context: NetworkContext): Promise<void> {
    const options = parseOverlayOptions(spec.options);
    const vni = await this.deps.vniAllocator.allocateVni(spec.id, options.vni);
    context.registerTable(ENDPOINT_TABLE);
    this.networks.set(spec.id, { vni, mtu: options.mtu, peers: new Map(), held: new Map(), joined: new Set(), plane: undefined, queue: new SerialQueue() });
  }

  async deleteNetwork(spec: NetworkSpec): Promise<void> {
    const network = this.networks.get(spec.id);
    if (network) {
      await network.queue.run(async () => {
        await network.plane?.destroy();
        network.plane = undefined;
      });
      this.networks.delete(spec.id);
    }
    await this.deps.vniAllocator.releaseVni(spec.id);
  }

  async createEndpoint(): Promise<EndpointProposal> {
    return {};
  }

  async deleteEndpoint(): Promise<void> {}

  endpointInfo(_network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown> {
    return { vtep: this.deps.advertiseAddress, hostInterface: vethNames(endpoint.id).host };
  }

  async join(spec: NetworkSpec, endpoint: EndpointSpec): Promise<JoinInfo> {
    const network = this.network(spec.id);
    return network.queue.run(async () => {
      const plane = await this.planeOf(spec.id, network);
      let srcName: string;
      try {
        srcName = await plane.addEndpoint(endpoint.id, endpoint.mac);
      } catch (error) {
        if (network.joined.size === 0) await this.dropPlane(network);
        throw error;
      }
      network.joined.add(endpoint.id);
      const record: EndpointRecord = { endpointId: endpoint.id, name: endpoint.name ?? '', aliases: endpoint.aliases ?? [], mac: endpoint.mac, vtep: this.deps.advertiseAddress };
      if (endpoint.ipv4 !== undefined) record.ipv4 = endpoint.ipv4;
      if (endpoint.ipv6 !== undefined) record.ipv6 = endpoint.ipv6;
      const tableEntries = record.ipv4 === undefined && record.ipv6 === undefined ? [] : [{ table: ENDPOINT_TABLE, key: endpoint.id, value: encodeEndpointRecord(record) }];
      // No gateway: the way out is the core's leg on netctl_gwbridge (as libnetwork's overlay, which leaves it to docker_gwbridge).
      return { interface: { srcName, dstPrefix: 'eth' }, tableEntries };
    });
  }

  async leave(spec: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    const network = this.networks.get(spec.id);
    if (!network) return;
    await network.queue.run(async () => {
      await network.plane?.removeEndpoint(endpoint.id);
      network.joined.delete(endpoint.id);
      if (network.joined.size === 0) await this.dropPlane(network);
    });
  }

  async programExternalConnectivity(): Promise<PortMapping[]> {
    return [];
  }

  async revokeExternalConnectivity(): Promise<void> {}

  async eventNotify(event: TableEvent): Promise<void> {
    if (event.table !== ENDPOINT_TABLE) return;
    const network = this.networks.get(event.networkId);
    if (!network) return;
    await network.queue.run(async () => {
      const peers = event.type === 'delete' ? [] : this.peersIn(decodeEndpointRecord(event.value));
      const outsider = peers.find((peer) => !this.members.has(peer.vtep));
      network.held.delete(event.key);
      if (outsider) {
        network.held.set(event.key, peers);
        this.ignored++;
        this.deps.log.warn({ network: event.networkId, endpoint: event.key, vtep: outsider.vtep, ignoredEntries: this.ignored }, 'an endpoint_table entry names a VTEP that is not a cluster member: ignored');
      }
      await this.setPeers(network, event.key, outsider ? [] : peers);
    });
  }

  /** Entries whose VTEP was not a cluster member and that were held back (since the driver started). */
  get ignoredEntries(): number {
    return this.ignored;
  }

  /** Programs an endpoint's peers in place of the ones it had. */
  private async setPeers(network: OverlayNetwork, key: string, peers: Peer[]): Promise<void> {
    const same = (a: Peer, b: Peer): boolean => a.ip === b.ip && a.mac === b.mac && a.vtep === b.vtep;
    for (const peer of network.peers.get(key) ?? []) if (!peers.some((p) => same(p, peer))) await network.plane?.removePeer(peer);
    if (peers.length === 0) network.peers.delete(key);
    else network.peers.set(key, peers);
    for (const peer of peers) await network.plane?.addPeer(peer);
  }

  namesIn(table: string, value: Buffer): PublishedNames | undefined {
    if (table !== ENDPOINT_TABLE) return undefined;
    const record = decodeEndpointRecord(value);
    if (record.name === '') return undefined;
    return { name: record.name, aliases: record.aliases, ...(record.ipv4 ? { ipv4: addressOf(record.ipv4) } : {}), ...(record.ipv6 ? { ipv6: addressOf(record.ipv6) } : {}) };
  }

  renamedEntry(table: string, value: Buffer, name: string): Buffer | undefined {
    if (table !== ENDPOINT_TABLE) return undefined;
    const record = decodeEndpointRecord(value);
    return record.name === '' ? undefined : encodeEndpointRecord({ ...record, name });
  }

  /** The peers an entry describes, one per address; none for our own endpoints, which are on the bridge already. */
  private peersIn(record: EndpointRecord): Peer[] {
    if (record.vtep === this.deps.advertiseAddress) return [];
    return [record.ipv4, record.ipv6].filter((cidr) => cidr !== undefined).map((cidr) => ({ ip: addressOf(cidr), mac: record.mac, vtep: record.vtep }));
  }

  async discoverNew(event: NodeEvent): Promise<void> {
    this.members.add(event.address);
    for (const network of this.networks.values()) {
      await network.queue.run(async () => {
        for (const [key, peers] of network.held) {
          if (!peers.every((peer) => this.members.has(peer.vtep))) continue;
          network.held.delete(key);
          await this.setPeers(network, key, peers);
        }
      });
    }
  }

  async discoverDelete(event: NodeEvent): Promise<void> {
    if (event.self) return;
    this.members.delete(event.address);
    for (const network of this.networks.values()) {
      await network.queue.run(async () => {
        for (const [key, peers] of network.peers) if (peers.some((peer) => peer.vtep === event.address)) network.peers.delete(key);
        for (const [key, peers] of network.held) if (peers.some((peer) => peer.vtep === event.address)) network.held.delete(key);
        await network.plane?.removeVtep(event.address);
      });
    }
  }

  async restore(specs: readonly NetworkSpec[], endpoints: readonly EndpointSpec[], contextOf: (networkId: string) => NetworkContext): Promise<RestoreResult> {
    const result: RestoreResult = { rejoin: [], failed: [] };
    removeOrphanNamespaces(this.deps.namespaceDir, new Set(specs.map((spec) => spec.id)));
    for (const spec of specs) {
      try {
        await this.createNetwork(spec, contextOf(spec.id));
        const network = this.network(spec.id);
        const local = endpoints.filter((e) => e.networkId === spec.id && e.sandbox);
        const plane = await OverlayDataPlane.adopt(this.planeConfig(spec.id, network));
        if (!plane) {
          result.rejoin.push(...local.map((e) => e.id));
          continue;
        }
        network.plane = plane;
        const ports = new Set(await plane.endpointPorts());
        for (const endpoint of local) {
          if (ports.has(vethNames(endpoint.id).bridgePort)) network.joined.add(endpoint.id);
          else result.rejoin.push(endpoint.id);
        }
        if (network.joined.size === 0) await this.dropPlane(network);
        // Peers come back with the cluster's table; until then none of the old ones is trusted.
        else await plane.reconcile([]);
      } catch (error) {
        result.failed.push({ networkId: spec.id, error: error as Error });
      }
    }
    return result;
  }

  /** The peers this host knows of on a network, for inspection and tests. */
  peersOf(networkId: string): Peer[] {
    return [...(this.networks.get(networkId)?.peers.values() ?? [])].flat();
  }

  private network(id: string): OverlayNetwork {
    const network = this.networks.get(id);
    if (!network) throw new Error(`overlay network ${id} is not known to this host's driver; create it first`);
    return network;
  }

  private async planeOf(networkId: string, network: OverlayNetwork): Promise<OverlayDataPlane> {
    if (network.plane) return network.plane;
    const plane = await OverlayDataPlane.create(this.planeConfig(networkId, network));
    try {
      await plane.reconcile([...network.peers.values()].flat());
    } catch (error) {
      await plane.destroy();
      throw error;
    }
    network.plane = plane;
    return plane;
  }

  private planeConfig(networkId: string, network: OverlayNetwork): DataPlaneConfig {
    return { networkId, vni: network.vni, vtep: this.deps.advertiseAddress, mtu: network.mtu, namespaceDir: this.deps.namespaceDir, host: this.deps.netlink };
  }

  private async dropPlane(network: OverlayNetwork): Promise<void> {
    const plane = network.plane;
    network.plane = undefined;
    await plane?.destroy();
  }
}
