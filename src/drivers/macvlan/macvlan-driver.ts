// The macvlan driver: containers appear as hosts of their own on the parent interface's segment,
// each with its own MAC. An endpoint is one macvlan interface, created directly inside the
// sandbox with its final name and MAC (one request); there is no bridge, NAT or firewall, so a
// network is only its parent, and a container is reached at its own address.
import { isEmptyPool } from '../../ipam/driver';
import type { Logger } from '../../util/logger';
import { InvalidArgumentError, type MacvlanMode, NetlinkHandle } from '../../netlink';
import { type Capability, type Driver, type EndpointProposal, type EndpointSpec, InvalidOptionError, type JoinInfo, type JoinTarget, MissingKernelFeatureError, type NetworkSpec, type PortMapping, type RestoreResult } from '../driver';
import { gatewaysFor } from '../gateways';
import { DAEMON_OWNERSHIP, type Ownership } from '../../kernel/ownership';
import { findLink, isGone, unlessGone } from '../links';
import { SerialQueue } from '../../util/serial';
import { parseMacvlanOptions } from './options';
import { ensureParent, isOwnedParent, type ParentPlan, planParent, removeOwnedParent, unsupported } from './parent';

export interface MacvlanDriverDeps {
  /** A netlink handle in the namespace the daemon manages (where parents are). */
  netlink: NetlinkHandle;
  log: Logger;
  /** How this controller marks its links; the daemon's when absent. */
  ownership?: Ownership;
}

interface MacvlanNetwork {
  name: string;
  parent: ParentPlan;
  mode: MacvlanMode;
  /**
   * The parent's index as last seen: joins name the parent by it, saving a lookup each. A parent
   * deleted since answers ENODEV, and the join looks it up by name again.
   */
  parentIndex?: number;
}

export class MacvlanDriver implements Driver {
  readonly type = 'macvlan';
  readonly capability: Capability = { dataScope: 'local', connectivityScope: 'global', createsInSandbox: true };
  readonly usesIpam = true;
  /** The networks this driver has, by ID: which parents are in use, and how. */
  private readonly networks = new Map<string, MacvlanNetwork>();
  /**
   * Parents are made and removed one operation at a time: two creates on one missing VLAN
   * sub-interface would both make it, and a removal deciding "no user left" while a create adopts
   * the link would take it from under the new network.
   */
  private readonly parentChanges = new SerialQueue();

  private readonly ownership: Ownership;

  constructor(private readonly deps: MacvlanDriverDeps) {
    this.ownership = deps.ownership ?? DAEMON_OWNERSHIP;
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    parseMacvlanOptions(options);
  }

  effectiveOptions(spec: NetworkSpec): Record<string, string> {
    return { ...spec.options };
  }

  interfacePrefix(): string {
    return 'eth';
  }

  async createNetwork(spec: NetworkSpec): Promise<void> {
    // Docker's rule: macvlan interfaces need IPv4 addresses (the null IPAM gives none).
    if (spec.ipv4.length === 0 || spec.ipv4.every((data) => isEmptyPool(data.pool))) throw new InvalidOptionError('ipv4 pool is empty');
    const network = this.describe(spec);
    // In the queue of parent changes: a concurrent create on the same parent sees this one
    // (sharing, subnets), and so does a removal deciding whether the parent has users left.
    await this.parentChanges.run(async () => {
      await this.useKernelName(network);
      this.checkSharing(network);
      this.networks.set(spec.id, network);
      try {
        network.parentIndex = (await ensureParent(this.deps.netlink, network.parent, this.ownership)).parent.index;
      } catch (error) {
        this.networks.delete(spec.id);
        throw error;
      }
    });
  }

  async deleteNetwork(spec: NetworkSpec): Promise<void> {
    const network = this.networks.get(spec.id) ?? this.tryDescribe(spec);
    this.networks.delete(spec.id);
    // Options that no longer parse (a network that failed at start) still name its parent, or
    // it had one of netctl's own; only a parent netctl made is ever removed.
    const parents = network ? [network.parent.name] : [spec.options['parent'], `dm-${spec.id.slice(0, 12)}`].filter((name): name is string => name !== undefined);
    await this.parentChanges.run(async () => {
      for (const parent of parents) {
        if (this.usersOf(parent).length > 0) continue;
        await removeOwnedParent(this.deps.netlink, parent, this.ownership).catch((error: unknown) => {
          if (network) throw error;
          this.deps.log.warn({ err: error, network: spec.id, parent }, 'could not check the parent of a network that failed at start');
        });
      }
    });
  }

  private tryDescribe(spec: NetworkSpec): MacvlanNetwork | undefined {
    try {
      return this.describe(spec);
    } catch {
      return undefined;
    }
  }

  /** The core's MAC and addresses, as they are. */
  async createEndpoint(): Promise<EndpointProposal> {
    return {};
  }

  /** The interface went at leave (or with its sandbox). */
  async deleteEndpoint(): Promise<void> {}

  endpointInfo(network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown> {
    const known = this.networks.get(network.id);
    return { 'com.docker.network.endpoint.macaddress': endpoint.mac, ...(known ? { parent: known.parent.name, macvlan_mode: known.mode } : {}) };
  }

  async join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): Promise<JoinInfo> {
    const known = this.networks.get(network.id) ?? this.describe(network);
    const { parent, mode, name } = known;
    let index: number | undefined;
    try {
      index = await this.createChild(known, endpoint.mac, target);
    } catch (error) {
      if (isGone(error)) throw new Error(`parent interface "${parent.name}" of macvlan network "${name}" no longer exists: create it again, or remove the network`);
      if (unsupported(error)) {
        throw new MissingKernelFeatureError('macvlan', `cannot create the macvlan interface of network "${name}": the kernel has no macvlan support (CONFIG_MACVLAN, module macvlan); load it ("modprobe macvlan") or use the bridge driver`);
      }
      if (mode === 'passthru' && (error as { code?: string }).code === 'EINVAL') {
        throw new InvalidOptionError(`macvlan network "${name}" is in passthru mode, which gives its parent "${parent.name}" to one interface, and that one is taken: disconnect its container first`);
      }
      throw error;
    }
    // A passthru interface takes its parent's MAC whatever the request said (the kernel's rule).
    const mac = mode === 'passthru' ? (await this.deps.netlink.linkGet(known.parentIndex ?? parent.name)).mac : undefined;
    return {
      // A segment of netctl's own is internal (as Docker treats a parentless macvlan): no gateway, and no leg on netctl_gwbridge either.
      ...(parent.kind === 'own' ? { disableGatewayService: true } : gatewaysFor(network, endpoint)),
      interface: { inSandbox: true, ...(index === undefined ? {} : { index }) },
      ...(mac === undefined || mac === endpoint.mac ? {} : { mac }),
    };
  }

  /**
   * Makes the endpoint's macvlan in the sandbox, in one request, at the index the core suggests;
   * resolves with that index, or undefined when the kernel chose. A parent index gone stale (the
   * parent was recreated) is retried by name, a suggested index already taken without it: at most
   * three requests.
   */
  private async createChild(network: MacvlanNetwork, mac: string, target: JoinTarget): Promise<number | undefined> {
    let parent: string | number = network.parentIndex ?? network.parent.name;
    let index = target.preferredIndex;
    for (;;) {
      try {
        await this.deps.netlink.linkAddInNamespace({ kind: 'macvlan', name: target.ifname, parent, mode: network.mode, mac, group: this.ownership.linkGroup, ...(index === undefined ? {} : { index }) }, target.sandboxFd ?? target.sandboxKey);
        return index;
      } catch (error) {
        if (typeof parent === 'number' && isGone(error)) {
          delete network.parentIndex;
          parent = network.parent.name;
        } else if (index !== undefined && isTaken(error)) {
          index = undefined;
        } else {
          throw error;
        }
      }
    }
  }

  /** The interface lives only in the sandbox: it goes from there (or with the sandbox's namespace). */
  async leave(_network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    if (!endpoint.sandbox) return;
    const netlink = openIn(endpoint.sandbox.sandboxKey);
    if (!netlink) return;
    try {
      await netlink.linkDel(endpoint.sandbox.ifname).catch(unlessGone);
    } finally {
      netlink.close();
    }
  }

  /** A macvlan container is reached at its own address: there is no host port to publish on. */
  async programExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    if (ports.length > 0) {
      throw new InvalidOptionError(`macvlan network "${network.name}" cannot publish ports: its containers are reached directly at their own addresses${endpoint.ipv4 ? ` (this one at ${endpoint.ipv4.split('/')[0]})` : ''}`);
    }
    return [];
  }

  async revokeExternalConnectivity(): Promise<void> {}

  async restore(networks: readonly NetworkSpec[], endpoints: readonly EndpointSpec[]): Promise<RestoreResult> {
    const { netlink, log } = this.deps;
    const failed: RestoreResult['failed'] = [];
    for (const spec of networks) {
      let network: MacvlanNetwork;
      try {
        network = this.describe(spec);
      } catch (error) {
        failed.push({ networkId: spec.id, error: error as Error });
        continue;
      }
      this.networks.set(spec.id, network);
      try {
        await this.useKernelName(network);
        const { parent, created } = await ensureParent(netlink, network.parent, this.ownership);
        network.parentIndex = parent.index;
        if (created) log.warn({ network: spec.id, parent: network.parent.name }, 'macvlan parent missing: recreated it');
      } catch (error) {
        // The admin's interface is gone or down: the network stays, and joins say why they fail.
        log.error({ err: error, network: spec.id, parent: network.parent.name }, 'macvlan parent unusable');
      }
    }
    const wanted = new Set([...this.networks.values()].map((n) => n.parent.name));
    for (const link of await netlink.linkList()) {
      // A veth parent's peer goes with it; it is no parent of its own.
      if (!isOwnedParent(link, this.ownership) || wanted.has(link.name) || wanted.has(link.name.replace(/^dp-/, 'dm-'))) continue;
      log.warn({ link: link.name }, 'macvlan parent of no network (left by a crash): removing it');
      await removeOwnedParent(netlink, link.name, this.ownership);
    }
    const healthy = endpoints.filter((e) => this.networks.has(e.networkId));
    return { rejoin: await missingInterfaces(healthy), failed };
  }

  private describe(spec: NetworkSpec): MacvlanNetwork {
    const options = parseMacvlanOptions(spec.options);
    return { name: spec.name, parent: planParent(spec, options), mode: options.mode };
  }

  /**
   * The kernel finds a link by any of its names (altnames too: `enp1s0` may be `eth0`), so an
   * admin's parent is known by the name the kernel reports, and two networks on one interface
   * are seen sharing it whichever names they gave.
   */
  private async useKernelName(network: MacvlanNetwork): Promise<void> {
    if (network.parent.kind !== 'host') return;
    const link = await findLink(this.deps.netlink, network.parent.name);
    if (link) network.parent = { ...network.parent, name: link.name };
  }

  private usersOf(parent: string): MacvlanNetwork[] {
    return [...this.networks.values()].filter((n) => n.parent.name === parent);
  }

  /**
   * Networks may share a parent, except where the kernel cannot: passthru takes the parent whole.
   * (Subnets need no check here: the core gives no two networks overlapping subnets.)
   */
  private checkSharing(network: MacvlanNetwork): void {
    const passthru = this.usersOf(network.parent.name).find((other) => network.mode === 'passthru' || other.mode === 'passthru');
    if (passthru) {
      throw new InvalidOptionError(`parent "${network.parent.name}" already carries macvlan network "${passthru.name}"${passthru.mode === 'passthru' ? ' in passthru mode' : ''}: a passthru network needs its parent for itself; use another parent`);
    }
  }
}

/** An index asked for is in use (EEXIST; EBUSY on older kernels), or so is the name: a retry without the index tells. */
const isTaken = (error: unknown): boolean => ['EEXIST', 'EBUSY'].includes((error as { code?: string }).code ?? '');

/** A handle in a sandbox's namespace; undefined when the namespace is gone. */
function openIn(sandboxKey: string): NetlinkHandle | undefined {
  try {
    return NetlinkHandle.open({ netns: sandboxKey });
  } catch (error) {
    if (error instanceof InvalidArgumentError) return undefined;
    throw error;
  }
}

/** The endpoints whose interface is not in their sandbox (a parent recreated takes its children with it). */
async function missingInterfaces(endpoints: readonly EndpointSpec[]): Promise<string[]> {
  const missing: string[] = [];
  const bySandbox = new Map<string, EndpointSpec[]>();
  for (const endpoint of endpoints) {
    if (endpoint.sandbox) bySandbox.set(endpoint.sandbox.sandboxKey, [...(bySandbox.get(endpoint.sandbox.sandboxKey) ?? []), endpoint]);
  }
  for (const [key, members] of bySandbox) {
    const netlink = openIn(key);
    if (!netlink) continue;
    try {
      const present = new Set((await netlink.linkList()).filter((l) => l.kind === 'macvlan').map((l) => l.name));
      missing.push(...members.filter((e) => !present.has(e.sandbox!.ifname)).map((e) => e.id));
    } finally {
      netlink.close();
    }
  }
  return missing;
}
