// The bridge driver: one Linux bridge per network with the gateway addresses on it, the
// network's firewall chains, and the sysctls forwarding needs. Every bridge and veth it makes is
// in netctl's link group from its creation, and a bridge also carries an alias naming its
// network, so a restart can tell netctl's links from the admin's and remove those a crash
// orphaned. A network may instead use an admin's bridge, named in its options, as Docker does:
// netctl then adds only its gateway addresses, marked as its own (IFA_PROTO), and takes away only
// those when the network goes (or, after a crash, when no network claims them).
import { isEmptyPool } from '../../ipam/driver';
import fs from 'node:fs';
import type { Logger } from '../../util/logger';
import type { Firewall, NetworkRules, PublishedPort } from '../../firewall';
import { addressOf } from '../../ip/address';
import { loadModule } from '../../kernel/modules';
import { ensureSysctl } from '../../kernel/sysctl';
import type { Link, NetlinkHandle } from '../../netlink';
import { Rollback } from '../../util/rollback';
import { gatewaysFor } from '../gateways';
import { DAEMON_OWNERSHIP, madeBy, legacyMarked, NETCTL_GROUP_FAMILY, type Ownership } from '../../kernel/ownership';
import { findLink, unlessGone } from '../links';
import { crashPoint } from '../../util/crash-point';
import { type Capability, type Driver, type EndpointProposal, type EndpointSpec, InvalidOptionError, type JoinInfo, type JoinTarget, type NetworkSpec, type PortMapping, type RestoreResult } from '../driver';
import { BRIDGE_NAME, type BridgeOptions, ENABLE_ICC, bridgeNameOf, parseBridgeOptions, requestedBridgeName } from './options';
import { type ContainerAddresses, PortTable, withIpv6Twins } from './ports';

const ALIAS_PREFIX = 'netctl-network:';

/** How earlier versions marked a host veth on an admin's bridge (the link group does now). */
const ENDPOINT_ALIAS_PREFIX = 'netctl-endpoint:';

/** The host end of an endpoint's veth pair: named after the endpoint, so no lookup is needed to find it. */
const hostVethName = (endpointId: string): string => `veth${endpointId.slice(0, 11)}`;
const containerAddresses = (endpoint: EndpointSpec): ContainerAddresses => ({
  ...(endpoint.ipv4 ? { ipv4: addressOf(endpoint.ipv4) } : {}),
  ...(endpoint.ipv6 ? { ipv6: addressOf(endpoint.ipv6) } : {}),
});
const HOST_VETH = /^veth[0-9a-f]{11}$/;

export interface BridgeDriverDeps {
  /** A netlink handle in the namespace the daemon manages. */
  netlink: NetlinkHandle;
  firewall: Firewall;
  log: Logger;
  /** How this controller marks its links and gateway addresses; the daemon's when absent. */
  ownership?: Ownership;
}

export class BridgeDriver implements Driver {
  readonly type = 'bridge';
  readonly capability: Capability = { dataScope: 'local', connectivityScope: 'local', createsInSandbox: true };
  readonly usesIpam = true;
  private readonly ports = new PortTable();
  /** Each network's options, parsed once (at create, or at restore). */
  private readonly parsed = new Map<string, BridgeOptions>();
  /**
   * Each network's bridge index as last seen: joins name the bridge by it, saving a lookup each
   * (the kernel describes a bridge at length). One that went stale (the bridge was made again)
   * fails the join's create, which is then retried by name.
   */
  private readonly bridgeIndex = new Map<string, number>();
  private readonly ownership: Ownership;

  constructor(private readonly deps: BridgeDriverDeps) {
    this.ownership = deps.ownership ?? DAEMON_OWNERSHIP;
  }

  /** A bridge this controller made: its link group, or the alias of earlier daemons. */
  private isOurs(bridge: Link): boolean {
    return madeBy(bridge, this.ownership) || legacyMarked(bridge, this.ownership, (alias) => alias.startsWith(ALIAS_PREFIX));
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    parseBridgeOptions(options);
  }

  effectiveOptions(spec: NetworkSpec): Record<string, string> {
    return { ...spec.options };
  }

  interfacePrefix(network: NetworkSpec): string {
    return this.optionsOf(network).containerIfacePrefix;
  }

  /** The network's options as parsed when it was created or restored. */
  private optionsOf(network: NetworkSpec): BridgeOptions {
    let options = this.parsed.get(network.id);
    if (!options) this.parsed.set(network.id, (options = parseBridgeOptions(network.options)));
    return options;
  }

  async createNetwork(spec: NetworkSpec): Promise<void> {
    // Docker's rule: a bridge needs IPv4 addresses (the null IPAM gives none).
    if (spec.ipv4.length === 0 || spec.ipv4.every((data) => isEmptyPool(data.pool))) throw new InvalidOptionError('ipv4 pool is empty');
    const options = parseBridgeOptions(spec.options);
    const name = bridgeNameOf(spec.id, options);
    const { netlink } = this.deps;
    const rollback = new Rollback();
    try {
      const existing = await findLink(netlink, name);
      let bridge: Link;
      if (existing) {
        this.checkAdoptable(existing);
        bridge = existing;
        rollback.push(`removing the gateway addresses from bridge ${name}`, () => this.removeGatewayAddresses(bridge, spec));
        await this.ensureAddresses(bridge, spec, options);
        crashPoint('bridge-create:gateway-added');
        if (!bridge.up) {
          await netlink.linkSetUp(bridge.index);
          rollback.push(`setting bridge ${name} down again`, () => netlink.linkSetDown(bridge.index));
        }
      } else {
        bridge = await this.makeBridge(spec, options, name);
        rollback.push(`deleting bridge ${name}`, () => netlink.linkDel(bridge.index));
      }
      await this.enableForwarding(spec, options);
      await this.deps.firewall.applyNetwork(this.firewallRules(spec, options, name));
      crashPoint('bridge-create:rules-applied');
      this.bridgeIndex.set(spec.id, bridge.index);
      this.parsed.set(spec.id, options);
    } catch (error) {
      for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, network: spec.id }, `rollback: ${failure.what} failed`);
      throw error;
    }
  }

  async deleteNetwork(spec: NetworkSpec): Promise<void> {
    const name = requestedBridgeName(spec.id, spec.options);
    const { netlink } = this.deps;
    const bridge = await findLink(netlink, name);
    // Both wait on the kernel (RCU grace periods for the device and for nf_tables chain removal),
    // and neither needs the other gone first: rules naming a missing interface match nothing.
    // An admin's bridge stays, without what netctl added to it.
    const removeBridge = !bridge ? Promise.resolve() : this.isOurs(bridge) ? netlink.linkDel(bridge.index).catch(unlessGone) : this.removeGatewayAddresses(bridge, spec);
    const removeRules = this.deps.firewall.removeNetwork(spec.id);
    await Promise.all([removeBridge, removeRules]);
    this.ports.forgetNetwork(spec.id);
    this.bridgeIndex.delete(spec.id);
    this.parsed.delete(spec.id);
  }

  /** The bridge takes the core's MAC and addresses as they are. */
  async createEndpoint(): Promise<EndpointProposal> {
    return {};
  }

  /** The veth went at leave. */
  async deleteEndpoint(): Promise<void> {}

  /** As Docker's bridge reports an endpoint: its MAC and the ports it publishes. */
  endpointInfo(network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown> {
    const ports = this.ports.published(network.id, endpoint.id);
    return { 'com.docker.network.endpoint.macaddress': endpoint.mac, 'com.docker.network.portmap': ports.map(({ containerIp: _, ...mapping }) => mapping) };
  }

  /**
   * One datagram makes the pair: the host end enslaved and up, the peer created inside the
   * sandbox with its final name and MAC, then the host end's port settings. Hairpin lets a
   * container reach its own published ports; a bridge port needs no IPv6 of its own (set while its
   * peer is still down, so it gets no link-local address, routes or MLD reports).
   * One queue each way per end, the number a veth uses anyway: made with the kernel's default (one
   * per possible CPU), it is cut to one right after it is registered, which waits for an RCU grace
   * period under RTNL and adds and removes the queues' sysfs entries (~0.15 ms a pair on 2 CPUs).
   */
  async join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): Promise<JoinInfo> {
    const options = this.optionsOf(network);
    const { netlink } = this.deps;
    const mtu = options.mtu !== undefined ? { mtu: options.mtu } : {};
    const bridge = bridgeNameOf(network.id, options);
    const create = (master: string | number): Promise<Link> =>
      netlink.linkAdd({
        kind: 'veth', name: hostVethName(endpoint.id), master, up: true, group: this.ownership.linkGroup, queues: 1, ...mtu,
        bridgePort: { hairpin: true }, addrGenMode: 'none',
        peer: { name: target.ifname, netns: target.sandboxFd ?? target.sandboxKey, mac: endpoint.mac, group: this.ownership.linkGroup, queues: 1, ...mtu },
      });
    const known = this.bridgeIndex.get(network.id);
    // A master index that names no device is EINVAL, and the pair is not left behind.
    const veth = await create(known ?? bridge).catch((error: unknown) => {
      if (known === undefined || (error as { code?: string }).code !== 'EINVAL') throw error;
      this.bridgeIndex.delete(network.id);
      return create(bridge);
    });
    crashPoint('bridge-join:veth-made');
    // The host end's IFLA_LINK is its peer's index in the sandbox.
    return { ...gatewaysFor(network, endpoint), interface: { inSandbox: true, ...(veth.parentIndex !== undefined ? { index: veth.parentIndex } : {}) } };
  }

  async leave(_network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    await this.deps.netlink.linkDel(hostVethName(endpoint.id)).catch(unlessGone);
  }

  /**
   * Published ports are DNAT rules in the network's own chains: the network's rules are rendered
   * again with every endpoint's ports. Loopback is routed into the bridge (route_localnet) so the
   * host's own 127.0.0.1 reaches them too, as Docker does without its userland proxy.
   */
  async programExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec, wanted: readonly PortMapping[]): Promise<PortMapping[]> {
    const options = this.optionsOf(network);
    const name = bridgeNameOf(network.id, options);
    if (wanted.length > 0 && !endpoint.ipv4) throw new InvalidOptionError('publishing ports needs an IPv4 address on the endpoint');
    const addresses = containerAddresses(endpoint);
    const resolved = withIpv6Twins(await this.ports.resolve(endpoint.id, wanted), addresses);
    const before = this.ports.mappingsOf(network.id, endpoint.id);
    this.ports.set(network.id, endpoint.id, addresses, resolved);
    try {
      if (resolved.length > 0) ensureSysctl(`net/ipv4/conf/${name}/route_localnet`, '1');
      await this.deps.firewall.applyNetwork(this.firewallRules(network, options, name));
    } catch (error) {
      this.ports.set(network.id, endpoint.id, addresses, before);
      throw error;
    }
    return resolved;
  }

  async revokeExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    await this.programExternalConnectivity(network, endpoint, []);
  }

  async restore(networks: readonly NetworkSpec[], endpoints: readonly EndpointSpec[]): Promise<RestoreResult> {
    const { netlink, log } = this.deps;
    const links = await netlink.linkList();
    const byName = new Map(links.map((l) => [l.name, l]));
    const failed: RestoreResult['failed'] = [];
    const restored = new Map<string, { spec: NetworkSpec; options: BridgeOptions; name: string }>();
    for (const spec of networks) {
      try {
        restored.set(spec.id, await this.restoreNetwork(spec, byName.get(requestedBridgeName(spec.id, spec.options))));
      } catch (error) {
        failed.push({ networkId: spec.id, error: error as Error });
      }
    }
    const wanted = new Set(networks.map((spec) => requestedBridgeName(spec.id, spec.options)));
    for (const link of links) {
      if (link.kind === 'bridge' && this.isOurs(link) && !wanted.has(link.name)) {
        log.warn({ bridge: link.name }, 'bridge of no network (left by a crash): removing it');
        await netlink.linkDel(link.index).catch(unlessGone);
      }
    }
    for (const endpoint of endpoints) {
      if (restored.has(endpoint.networkId) && endpoint.ports && endpoint.ports.length > 0) this.ports.set(endpoint.networkId, endpoint.id, containerAddresses(endpoint), endpoint.ports);
    }
    const rules = [...restored.values()].map(({ spec, options, name }) => this.firewallRules(spec, options, name));
    // A failed network's chains stay as they are: its removal takes them.
    for (const failure of await this.deps.firewall.reconcile(rules, failed.map((f) => f.networkId))) {
      restored.delete(failure.networkId);
      failed.push(failure);
    }
    await this.removeUnclaimedGateways(networks);
    const rejoin = await this.restoreEndpoints(endpoints);
    return { rejoin: rejoin.filter((id) => restored.has(endpoints.find((e) => e.id === id)!.networkId)), failed };
  }

  /** Brings one network's bridge back as it should be. */
  private async restoreNetwork(spec: NetworkSpec, link: Link | undefined): Promise<{ spec: NetworkSpec; options: BridgeOptions; name: string }> {
    const options = parseBridgeOptions(spec.options);
    this.parsed.set(spec.id, options);
    const name = bridgeNameOf(spec.id, options);
    if (!link) {
      this.deps.log.warn({ network: spec.id, bridge: name }, 'bridge missing: recreating it');
      this.bridgeIndex.set(spec.id, (await this.makeBridge(spec, options, name)).index);
    } else {
      await this.ensureAddresses(link, spec, options);
      if (!link.up) await this.deps.netlink.linkSetUp(link.index);
      this.bridgeIndex.set(spec.id, link.index);
    }
    await this.enableForwarding(spec, options);
    return { spec, options, name };
  }

  /**
   * Gateway addresses netctl added (IFA_PROTO) that no network claims on that device: a crash
   * came between adding one to an admin's bridge and recording its network.
   */
  private async removeUnclaimedGateways(networks: readonly NetworkSpec[]): Promise<void> {
    const { netlink, log } = this.deps;
    const names = new Map((await netlink.linkList()).map((l) => [l.index, l.name]));
    const claimed = new Set(networks.flatMap((spec) => [...spec.ipv4, ...spec.ipv6].map((data) => `${requestedBridgeName(spec.id, spec.options)} ${data.gateway}`)));
    for (const address of await netlink.addrList()) {
      if (address.protocol !== this.ownership.addressProtocol || claimed.has(`${names.get(address.linkIndex)} ${address.address}`)) continue;
      log.warn({ link: names.get(address.linkIndex), address: address.address }, 'gateway address of no network (left by a crash): removing it');
      await netlink.addrDel(address.linkIndex, address.address).catch(unlessGone);
    }
  }

  /**
   * Removes host veths of no endpoint (left by a crash): those netctl made (its link group, or
   * the alias of earlier versions), and any on netctl's own bridges. Returns the endpoints whose
   * veth is gone.
   */
  private async restoreEndpoints(endpoints: readonly EndpointSpec[]): Promise<string[]> {
    const { netlink, log } = this.deps;
    const links = await netlink.linkList();
    const ours = new Set(links.filter((l) => l.kind === 'bridge' && this.isOurs(l)).map((l) => l.index));
    const wanted = new Set(endpoints.map((e) => hostVethName(e.id)));
    for (const link of links) {
      if (link.kind !== 'veth' || wanted.has(link.name)) continue;
      const onOurBridge = link.masterIndex !== undefined && ours.has(link.masterIndex);
      const markedOurs = (madeBy(link, this.ownership) && HOST_VETH.test(link.name)) || legacyMarked(link, this.ownership, (alias) => alias.startsWith(ENDPOINT_ALIAS_PREFIX));
      if (!onOurBridge && !markedOurs) continue;
      log.warn({ link: link.name }, 'veth of no endpoint (left by a crash): removing it');
      await netlink.linkDel(link.index).catch(unlessGone);
    }
    const present = new Set(links.map((l) => l.name));
    return endpoints.filter((e) => !present.has(hostVethName(e.id))).map((e) => e.id);
  }

  /** Creates the bridge (down), marks it as the network's, addresses it and brings it up. */
  private async makeBridge(spec: NetworkSpec, options: BridgeOptions, name: string): Promise<Link> {
    const { netlink } = this.deps;
    const bridge = await netlink.linkAdd({ kind: 'bridge', name, group: this.ownership.linkGroup, ...(options.mtu !== undefined ? { mtu: options.mtu } : {}) });
    crashPoint('bridge-create:bridge-made');
    try {
      await netlink.linkSetAlias(bridge.index, `${ALIAS_PREFIX}${spec.id}`);
      await this.ensureAddresses(bridge, spec, options);
      crashPoint('bridge-create:gateway-added');
      await netlink.linkSetUp(bridge.index);
      return bridge;
    } catch (error) {
      await netlink.linkDel(bridge.index).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A bridge named in the options that netctl did not make is used if it is a bridge that no
   * other network uses.
   */
  private checkAdoptable(existing: Link): void {
    const owner = existing.alias?.startsWith(ALIAS_PREFIX) ? existing.alias.slice(ALIAS_PREFIX.length, ALIAS_PREFIX.length + 12) : [...this.bridgeIndex].find(([, index]) => index === existing.index)?.[0].slice(0, 12);
    if (owner !== undefined) throw new InvalidOptionError(`cannot use bridge "${existing.name}": it is the bridge of network ${owner}; choose another ${BRIDGE_NAME}`);
    // A bridge a netctl controller (this one or another on the host) made but did not name yet.
    if (madeBy(existing, this.ownership) || existing.group >>> 16 === NETCTL_GROUP_FAMILY) {
      throw new InvalidOptionError(`cannot use bridge "${existing.name}": netctl made it (link group ${existing.group}) for a network of its own; choose another ${BRIDGE_NAME}`);
    }
    if (existing.kind !== 'bridge') {
      throw new InvalidOptionError(`cannot use "${existing.name}" as the network's bridge: it is ${existing.kind ? `a ${existing.kind} link` : 'a device'}, not a bridge; choose another ${BRIDGE_NAME}, or a free name for netctl to create`);
    }
  }

  /** The gateway addresses the bridge lacks (IPv4 ones unless inhibited), marked as netctl's. */
  private async ensureAddresses(link: Link, spec: NetworkSpec, options: BridgeOptions): Promise<void> {
    const { netlink } = this.deps;
    const present = new Set((await netlink.addrList({ link: link.index })).map((a) => a.address));
    for (const data of [...(options.inhibitIpv4 ? [] : spec.ipv4), ...spec.ipv6]) {
      if (data.gateway === undefined || present.has(data.gateway)) continue;
      // No duplicate address detection: the gateway must answer at once, and IPAM already made it unique.
      await netlink.addrAdd(link.index, { address: data.gateway, noDad: data.gateway.includes(':'), protocol: this.ownership.addressProtocol });
    }
  }

  /** Takes the network's gateway addresses off an admin's bridge: those netctl added, no other. */
  private async removeGatewayAddresses(bridge: Link, spec: NetworkSpec): Promise<void> {
    const { netlink } = this.deps;
    const gateways = new Set([...spec.ipv4, ...spec.ipv6].map((data) => data.gateway));
    for (const address of await netlink.addrList({ link: bridge.index })) {
      if (address.protocol === this.ownership.addressProtocol && gateways.has(address.address)) await netlink.addrDel(bridge.index, address.address).catch(unlessGone);
    }
  }

  private async enableForwarding(spec: NetworkSpec, options: BridgeOptions): Promise<void> {
    ensureSysctl('net/ipv4/ip_forward', '1');
    if (spec.ipv6.length > 0) ensureSysctl('net/ipv6/conf/all/forwarding', '1');
    // ICC off is enforced in iptables, which bridged frames reach only through bridge netfilter,
    // a module a fresh boot may not have loaded yet.
    if (!options.icc) {
      if (!fs.existsSync('/proc/sys/net/bridge') && !(await loadModule('br_netfilter'))) {
        throw new InvalidOptionError(`network ${spec.name} has inter-container communication off (${ENABLE_ICC}=false), which needs the kernel's bridge netfilter: "modprobe br_netfilter" failed; load it, or allow inter-container communication`);
      }
      ensureSysctl('net/bridge/bridge-nf-call-iptables', '1');
      if (spec.ipv6.length > 0) ensureSysctl('net/bridge/bridge-nf-call-ip6tables', '1');
    }
  }

  private firewallRules(spec: NetworkSpec, options: BridgeOptions, bridge: string): NetworkRules {
    return firewallRules(spec, options, bridge, this.ports.published(spec.id));
  }
}

function firewallRules(spec: NetworkSpec, options: BridgeOptions, bridge: string, ports: PublishedPort[]): NetworkRules {
  return {
    id: spec.id,
    bridge,
    subnets: [...spec.ipv4, ...spec.ipv6].map((d) => d.pool),
    icc: options.icc,
    masquerade: options.masquerade,
    internal: spec.internal,
    ...(options.hostBindingIpv4 !== undefined ? { hostBindingIpv4: options.hostBindingIpv4 } : {}),
    ports,
  };
}
