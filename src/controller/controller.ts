// The CNM core: networks with unique names and 64-hex IDs, each created as one transaction over
// an IPAM driver, a network driver and the store, and brought back on daemon start; drivers and
// IPAM drivers come from the registry (registry.ts), a network's addresses from
// network-addressing.ts, sandboxes and endpoints from attachments.ts.
import type { Logger } from '../util/logger';
import { type Driver, InvalidOptionError, type NetworkContext, type NodeEvent, type PortMapping, type TableEntry, type TableEvent } from '../drivers/driver';
import { addressOf } from '../ip/address';
import { type IpamDriver, NullIpam } from '../ipam';
import { DAEMON_OWNERSHIP, type Ownership } from '../kernel/ownership';
import type { NetlinkHandle } from '../netlink';
import { StoreUnavailableError } from '../store/errors';
import type { Store } from '../store/types';
import { crashPoint } from '../util/crash-point';
import { Rollback } from '../util/rollback';
import { Attachments, type ConnectRequest, type SandboxOptions } from './attachments';
import { type DnsDeps, DnsRegistry, hasNames } from './dns-registry';
import { type EndpointRecord, type SandboxRecord } from './endpoint-record';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from './errors';
import { activeEndpointsMessage, clusterError, GlobalNetworks } from './global-networks';
import { GATEWAY_NETWORK, GATEWAY_NETWORK_OPTIONS } from './gateway-leg';
import { configOf, NetworkAddressing } from './network-addressing';
import { type IpamConfig, type NetworkRecord, parseNetworkRecord, shownScope, specOf } from './network-record';
import { Registry } from './registry';
import { SpareAddresses } from './spare-addresses';
import { type NetworkPeer, type TablePublisher, TableRegistrations, tableEntries } from './tables';
import { newId } from '../util/id';
import { invalidNameMessage, nameProblem } from '../util/names';
import { SingleFlight } from '../util/single-flight';

const NETWORK_PREFIX = 'networks/';
/** This host's copies of the global networks its driver holds state of (made here, or joined). */
const HELD_GLOBAL_PREFIX = 'global-networks/';

/** What the controller did to a network, as Docker's network events name it; connects carry the endpoint and its sandbox's container. */
export interface NetworkChange {
  action: 'create' | 'destroy' | 'connect' | 'disconnect';
  network: NetworkRecord;
  endpoint?: EndpointRecord;
  containerId?: string;
}

export interface CreateNetworkRequest {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  enableIPv6?: boolean;
  options?: Record<string, string>;
  labels?: Record<string, string>;
  ipam?: { driver?: string; options?: Record<string, string>; config?: Array<Partial<IpamConfig>> };
}

export interface ControllerDeps {
  store: Store;
  /** The default IPAM driver ("default"); the null one ("null") comes with the core. */
  ipam: IpamDriver;
  /** The network drivers known from the start; more can be registered later. */
  drivers: readonly Driver[];
  log: Logger;
  /** A handle in the namespace the networks belong to. */
  netlink: NetlinkHandle;
  /** How the controller marks the kernel objects it makes (the drivers must use the same); the daemon's when absent. */
  ownership?: Ownership;
  /** Prefixes a dynamic pool must avoid: the host's routes, read when a pool is chosen. */
  hostRoutes(): Promise<string[]>;
  /** Where sandbox namespaces are made (the daemon's exec root + /netns). */
  sandboxDir: string;
  /** The embedded DNS, when there is one: endpoints get names, sandboxes listeners. */
  dns?: DnsDeps;
  /** The cluster's tables, when there is a cluster: joins publish their entries there. */
  tables?: TablePublisher;
  /**
   * The cluster store (etcd) and this host's name in it: networks of global-scope drivers live
   * there, listed and inspected by every controller on it. Without it such drivers are refused.
   */
  cluster?: { store: Store; node: string };
  /** Where a driver or IPAM driver name nothing registered is looked for (Docker plugins): found ones are registered. */
  plugins?: PluginSource;
  /**
   * Sandboxes whose endpoints offer no gateway (overlays) get a leg on netctl_gwbridge, a bridge
   * network made on demand, as Docker's docker_gwbridge (see gateway-leg.ts). Needs the bridge driver.
   */
  gatewayBridge?: boolean;
}

export interface PluginSource {
  driver(name: string): Promise<Driver | undefined>;
  ipam(name: string): Promise<IpamDriver | undefined>;
}

export class Controller {
  /** Local-scope networks (the local store's). */
  private readonly networks = new Map<string, NetworkRecord>();
  /** Global-scope networks, as the cluster store has them. */
  private readonly global: GlobalNetworks | undefined;
  /** Spare addresses of the global networks this host carries, for joins while etcd is unreachable. */
  private readonly spares: SpareAddresses | undefined;
  /** Global networks whose driver state is on this host (see HELD_GLOBAL_PREFIX). */
  private readonly held = new Map<string, NetworkRecord>();
  private readonly holding = new SingleFlight();
  private readonly registry = new Registry();
  private readonly tableRegistrations = new TableRegistrations();
  private readonly dns: DnsRegistry | undefined;
  /** Names of networks being created: a second create of the same name must fail at once. */
  private readonly reservedNames = new Set<string>();
  /** Networks whose removal has begun: no endpoint may join them any more. */
  private readonly removing = new Set<string>();
  /** Networks that could not be brought back at start, and why: listed and removable, never joined. */
  /** Why a network could not be brought back; `waiting`: for a driver or IPAM driver to be registered. */
  private readonly failures = new Map<string, { message: string; waiting: boolean }>();
  private readonly addressing: NetworkAddressing;
  private readonly attachments: Attachments;
  private readonly changeListeners = new Set<(change: NetworkChange) => void>();
  private creatingGatewayNetwork: Promise<NetworkRecord> | undefined;
  private closed = false;

  private constructor(private readonly deps: ControllerDeps) {
    if (deps.dns) this.dns = new DnsRegistry(deps.dns);
    if (deps.cluster) {
      this.global = new GlobalNetworks({
        ...deps.cluster,
        log: deps.log,
        removed: (record) => void this.letGo(record),
        ownEndpoints: (networkId) => this.attachments.ofNetwork(networkId).map((e) => e.id),
        caughtUp: () => this.refreshSpares(),
      });
      this.spares = new SpareAddresses({
        store: deps.store,
        node: deps.cluster.node,
        log: deps.log,
        ipamOf: (network) => this.registry.ipam(network.ipam.driver),
        endpointsOf: (networkId) => this.attachments.ofNetwork(networkId),
        storeReachable: () => this.global!.reachable,
      });
    }
    for (const driver of deps.drivers) this.registry.addDriver(driver);
    this.registry.addIpam(deps.ipam);
    this.registry.addIpam(new NullIpam());
    this.addressing = new NetworkAddressing({ networks: () => this.list(), hostRoutes: deps.hostRoutes });
    this.attachments = new Attachments({
      store: deps.store,
      log: deps.log,
      sandboxDir: deps.sandboxDir,
      netlink: deps.netlink,
      ownership: deps.ownership ?? DAEMON_OWNERSHIP,
      network: (reference) => this.find(reference),
      networkById: (id) => (this.removing.has(id) ? undefined : this.byId(id)),
      presence: {
        entering: (network, endpointId) => this.entering(network, endpointId),
        left: (networkId, endpointId) => this.left(networkId, endpointId),
        ...(this.global ? { later: (work: () => Promise<void>) => this.global!.later(work) } : {}),
      },
      ...(this.spares ? { spares: this.spares } : {}),
      driverOf: (network) => this.driverOf(network),
      ipamOf: (network) => this.registry.ipam(network.ipam.driver),
      failure: (networkId) => this.failure(networkId),
      ...(deps.gatewayBridge ? { gatewayNetwork: () => this.gatewayNetwork() } : {}),
      ...(this.dns ? { dns: this.dns } : {}),
      ...(deps.tables ? { tables: deps.tables } : {}),
      endpointChanged: (action, endpoint) => {
        const network = this.networks.get(endpoint.networkId);
        let containerId: string | undefined;
        try {
          containerId = this.attachments.sandbox(endpoint.sandboxId).containerId;
        } catch {
          // A stranded endpoint's sandbox is gone already.
        }
        if (network) this.changed({ action, network, endpoint, ...(containerId ? { containerId } : {}) });
      },
    });
  }

  /** Calls `listener` after each network create and removal and each endpoint's connect and disconnect, until the returned function is called. */
  onChange(listener: (change: NetworkChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => void this.changeListeners.delete(listener);
  }

  private changed(change: NetworkChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (error) {
        this.deps.log.error({ err: error, network: change.network.id }, `a listener failed on a network ${change.action}`);
      }
    }
  }

  /** netctl_gwbridge; made now when there is none, once however many sandboxes ask at the same time. */
  private gatewayNetwork(): Promise<NetworkRecord> {
    const existing = [...this.networks.values()].find((n) => n.name === GATEWAY_NETWORK);
    if (existing) return Promise.resolve(existing);
    this.creatingGatewayNetwork ??= this.create({ name: GATEWAY_NETWORK, driver: 'bridge', options: { ...GATEWAY_NETWORK_OPTIONS } }).finally(() => (this.creatingGatewayNetwork = undefined));
    return this.creatingGatewayNetwork;
  }

  /** Whether the endpoint is its sandbox's leg on netctl_gwbridge (not one the container was connected to). */
  isGatewayLeg(endpoint: EndpointRecord): boolean {
    return this.attachments.isGatewayLeg(endpoint);
  }

  /** Gossip table entries the drivers refused (the overlay's naming a VTEP outside the cluster), for `cluster info`. */
  ignoredTableEntries(): number {
    return this.registry.allDrivers().reduce((sum, driver) => sum + (driver.ignoredEntries ?? 0), 0);
  }

  /** The network drivers registered, by type. */
  driverTypes(): string[] {
    return this.registry.allDrivers().map((d) => d.type);
  }

  /**
   * Loads the stored networks, sandboxes and endpoints and makes the kernel match them (see
   * Driver.restore), repairing what a crash between two steps left. A network that cannot be
   * brought back (its driver is not registered, say) is marked (see failure()) and the rest
   * carry on.
   */
  static async open(deps: ControllerDeps): Promise<Controller> {
    const controller = new Controller(deps);
    await readRecords(deps, NETWORK_PREFIX, controller.networks);
    if (controller.global) {
      await readRecords(deps, HELD_GLOBAL_PREFIX, controller.held);
      controller.global.seed(controller.held.values());
      await controller.spares!.load();
    }
    await controller.attachments.load();
    for (const network of controller.hostNetworks()) {
      const missing = controller.missingPart(network);
      if (missing) controller.markFailed(network.id, new Error(missing), true);
    }
    for (const driver of controller.registry.allDrivers()) await controller.restore(driver);
    // Plugins are looked for in the background: one that is slow to answer must not hold the start.
    for (const network of controller.hostNetworks()) if (controller.failures.get(network.id)?.waiting) void controller.lookUpPlugins(network).catch(() => {});
    await controller.attachments.dropStranded();
    await controller.attachments.settleGatewayLegs();
    await controller.attachments.reconcileAddresses(controller.list());
    await controller.releaseOrphanPools();
    // Last: catching up writes this host's endpoints, and networks removed meanwhile are let go.
    await controller.global?.start();
    return controller;
  }

  /** The networks whose kernel state is this host's: local ones, and global ones its driver holds. */
  private hostNetworks(): NetworkRecord[] {
    return [...this.networks.values(), ...this.held.values()];
  }

  private byId(id: string): NetworkRecord | undefined {
    return this.networks.get(id) ?? this.global?.get(id) ?? this.held.get(id);
  }

  private isGlobal(networkId: string): boolean {
    return !this.networks.has(networkId) && this.byId(networkId) !== undefined;
  }

  /**
   * An endpoint is about to be made on a network: on a global one, the cluster learns that this
   * host has it (so no host removes the network under it), and the driver gets the network here
   * if it does not have it yet.
   */
  private async entering(network: NetworkRecord, endpointId: string): Promise<void> {
    if (!this.global || !this.isGlobal(network.id)) return;
    await this.global.enter(network.id, endpointId, this.held.has(network.id));
    try {
      await this.hold(network);
    } catch (error) {
      await this.global.leave(network.id, endpointId);
      throw error;
    }
  }

  private async left(networkId: string, endpointId: string): Promise<void> {
    if (this.global && this.isGlobal(networkId)) await this.global.leave(networkId, endpointId);
  }

  /** Gives the driver a global network on this host (its first endpoint here, or its creation). */
  private hold(network: NetworkRecord): Promise<void> {
    if (this.held.has(network.id)) return Promise.resolve();
    // Two first endpoints at once (two sandboxes) make the driver's network once.
    return this.holding.run(network.id, async () => {
      const driver = this.driverOf(network);
      let created = false;
      try {
        await driver.createNetwork(specOf(network), this.contextOf(network.id, driver));
        created = true;
        await this.deps.store.put(HELD_GLOBAL_PREFIX + network.id, Buffer.from(JSON.stringify(network)));
      } catch (error) {
        this.forgetTables(network.id);
        if (created) await driver.deleteNetwork(specOf(network));
        throw error;
      }
      this.held.set(network.id, network);
    });
  }

  /** Takes a global network away from the driver here (the undo of hold); once, however many ask at the same time. */
  private async unhold(networkId: string): Promise<void> {
    const network = this.held.get(networkId);
    if (!network) return;
    this.held.delete(networkId);
    this.forgetTables(networkId);
    await this.spares?.forget(networkId);
    await this.registry.driver(network.driver)?.deleteNetwork(specOf(network));
    await this.deps.store.delete(HELD_GLOBAL_PREFIX + networkId);
  }

  /** With etcd answering again: the spares of every global network this host carries (see SpareAddresses.refresh). */
  private async refreshSpares(): Promise<void> {
    for (const network of [...this.held.values()]) {
      try {
        await this.spares!.refresh(network);
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        this.deps.log.warn({ err: error, network: network.id }, 'could not refresh the spare addresses');
      }
    }
  }

  /** A global network's record went from the cluster: the driver's state of it here goes too. */
  private async letGo(record: NetworkRecord): Promise<void> {
    if (!this.held.has(record.id)) return;
    if (this.attachments.ofNetwork(record.id).length > 0) {
      this.deps.log.error({ network: record.id, name: record.name }, `global network ${record.name} was removed from the cluster while this host has endpoints on it: kept here until they are gone`);
      return;
    }
    try {
      await this.unhold(record.id);
      this.failures.delete(record.id);
      this.deps.log.info({ network: record.id, name: record.name }, 'global network removed from the cluster: let go here');
    } catch (error) {
      this.deps.log.error({ err: error, network: record.id }, `could not take down global network ${record.name} here; the next start does`);
    }
  }

  private missingPart(network: NetworkRecord): string | undefined {
    if (!this.registry.driver(network.driver)) return `driver "${network.driver}" is not available`;
    if (!this.registry.ipam(network.ipam.driver)) return `IPAM driver "${network.ipam.driver}" is not available`;
    return undefined;
  }

  /**
   * Brings back the networks of one driver, all of them that are not failed: a driver takes the
   * list as the whole truth and removes what no network in it owns.
   */
  private async restore(driver: Driver): Promise<void> {
    // A network waiting only for its IPAM driver is the driver's all the same: left out of the
    // list, its bridge and interfaces would be removed as no network's.
    const networks = this.hostNetworks().filter((n) => n.driver === driver.type && (!this.failures.has(n.id) || this.failures.get(n.id)!.waiting));
    const endpoints = networks.flatMap((n) => this.attachments.ofNetwork(n.id)).map((e) => this.attachments.endpointSpec(e));
    try {
      const { rejoin, failed } = await driver.restore(networks.map(specOf), endpoints, (networkId) => this.contextOf(networkId, driver));
      for (const failure of failed) this.markFailed(failure.networkId, failure.error);
      await this.attachments.rejoin(rejoin);
    } catch (error) {
      for (const network of networks) this.markFailed(network.id, error as Error);
    }
  }

  private markFailed(networkId: string, error: Error, waiting = false): void {
    const network = this.byId(networkId)!;
    this.failures.set(networkId, { message: error.message, waiting });
    this.deps.log.error({ err: error, network: networkId, name: network.name }, `network ${network.name} could not be brought back: it takes no endpoints until it is removed and created again`);
  }

  /** Why a network could not be brought back when the daemon started; undefined when it works. */
  failure(networkId: string): string | undefined {
    return this.failures.get(networkId)?.message;
  }

  /**
   * Registers a network driver (a plugin's, an embedder's). Networks of its type that waited for
   * it since the start are brought back now, those whose IPAM driver is there too.
   */
  async registerDriver(driver: Driver): Promise<void> {
    this.registry.addDriver(driver);
    await this.restoreWaiting();
  }

  /** Registers an IPAM driver (a plugin's, an embedder's); `--ipam-driver NAME` picks it. Networks that waited for it come back. */
  async registerIpamDriver(ipam: IpamDriver): Promise<void> {
    this.registry.addIpam(ipam);
    await this.restoreWaiting();
  }

  /** The driver registered as `name`, or a plugin of that name found and registered now. */
  private async driverNamed(name: string): Promise<Driver> {
    const plugin = this.registry.driver(name) ? undefined : await this.deps.plugins?.driver(name);
    if (plugin && !this.registry.driver(name)) await this.registerDriver(plugin);
    return this.registry.requireDriver(name);
  }

  private async ipamNamed(name: string): Promise<IpamDriver> {
    const plugin = this.registry.ipam(name) ? undefined : await this.deps.plugins?.ipam(name);
    if (plugin && !this.registry.ipam(name)) await this.registerIpamDriver(plugin);
    return this.registry.requireIpam(name);
  }

  /** For a network waiting for its driver or IPAM driver: looks for plugins of those names, which bring it back when found. */
  private async lookUpPlugins(network: NetworkRecord): Promise<void> {
    if (!this.deps.plugins || this.closed) return;
    try {
      await this.driverNamed(network.driver);
      await this.ipamNamed(network.ipam.driver);
    } catch (error) {
      if (!(error instanceof NotFoundError)) this.deps.log.warn({ err: error, network: network.id }, `network ${network.name}: its plugin could not be used`);
    }
  }

  private async restoreWaiting(): Promise<void> {
    for (const driver of this.registry.allDrivers()) {
      const ready = this.hostNetworks().filter((n) => n.driver === driver.type && this.failures.get(n.id)?.waiting && !this.missingPart(n));
      if (ready.length === 0) continue;
      for (const network of ready) this.failures.delete(network.id);
      await this.restore(driver);
    }
  }

  /** Another host joined the cluster: every driver that listens hears of it, one failing driver not keeping it from the rest. */
  async discoverNew(event: NodeEvent): Promise<void> {
    await this.tellDrivers('discoverNew', (driver) => driver.discoverNew?.(event));
  }

  /** A host left the cluster or was declared dead. */
  async discoverDelete(event: NodeEvent): Promise<void> {
    await this.tellDrivers('discoverDelete', (driver) => driver.discoverDelete?.(event));
  }

  private async tellDrivers(what: string, call: (driver: Driver) => Promise<void> | void | undefined): Promise<void> {
    for (const driver of this.registry.allDrivers()) {
      await Promise.resolve()
        .then(() => call(driver))
        .catch((error: unknown) => this.deps.log.warn({ err: error, driver: driver.type }, `driver ${driver.type} failed on ${what}`));
    }
  }

  /**
   * An entry another host published in a network's table: for the driver that registered that
   * table, and for the embedded DNS when the driver says it names an endpoint.
   */
  notifyTableEvent(event: TableEvent): Promise<boolean> {
    this.learnNames(event);
    return this.tableRegistrations.notify(event);
  }

  private learnNames(event: TableEvent): void {
    const driver = this.tableRegistrations.driverOf(event.networkId, event.table);
    const network = this.byId(event.networkId);
    if (!this.dns || !driver?.namesIn || !network) return;
    try {
      this.dns.setRemote(network, `${event.table}/${event.key}`, event.type === 'delete' ? undefined : driver.namesIn(event.table, event.value));
    } catch (error) {
      this.deps.log.warn({ err: error, network: event.networkId, table: event.table, key: event.key }, 'a table entry from another host names nothing readable: its names are not served');
    }
  }

  /** The network's tables are no longer this host's: no driver hears of them, and their names go. */
  private forgetTables(networkId: string): void {
    this.tableRegistrations.forget(networkId);
    this.dns?.forgetRemote(networkId);
  }

  /**
   * The hosts that carry a global network (Docker's Peers): on its gossip, and with endpoints on it
   * as the cluster store says (gossip keeps a host on after its last container left); none outside a cluster.
   */
  peers(networkId: string): NetworkPeer[] {
    const carrying = new Set(this.global?.hostsWithEndpoints(networkId) ?? []);
    return (this.deps.tables?.peers?.(networkId) ?? []).filter((peer) => carrying.has(peer.name));
  }

  /** What this host's endpoints publish in the cluster's tables, by network (their records keep it across restarts). */
  publishedEntries(): Array<{ networkId: string; entries: TableEntry[] }> {
    return this.list().flatMap((network) => {
      const entries = this.attachments.ofNetwork(network.id).flatMap((endpoint) => tableEntries(endpoint.tableEntries ?? []));
      return entries.length > 0 ? [{ networkId: network.id, entries }] : [];
    });
  }

  private contextOf(networkId: string, driver: Driver): NetworkContext {
    return { registerTable: (table) => this.tableRegistrations.register(networkId, table, driver) };
  }

  private driverOf(network: NetworkRecord): Driver {
    const driver = this.registry.driver(network.driver);
    if (!driver) throw new NotFoundError(`network ${network.name}: driver "${network.driver}" is not available`);
    return driver;
  }

  // ---- sandboxes and endpoints (see attachments.ts) ----

  createSandbox(options: SandboxOptions = {}): Promise<SandboxRecord> {
    return this.attachments.createSandbox(options);
  }

  deleteSandbox(id: string): Promise<void> {
    return this.attachments.deleteSandbox(id);
  }

  /** Lets go of the sockets kept in sandboxes and of the cluster store's watch; networks, sandboxes and endpoints stay as they are. */
  async close(): Promise<void> {
    this.closed = true;
    this.attachments.close();
    await this.global?.close();
  }

  sandbox(id: string): SandboxRecord {
    return this.attachments.sandbox(id);
  }

  async connect(network: string, sandboxId: string, request: ConnectRequest = {}): Promise<EndpointRecord> {
    const record = this.find(network);
    // Docker's rule for swarm-scoped networks: a container that is no swarm service (none here is) needs --attachable.
    if (shownScope(record) === 'swarm' && !record.attachable) {
      throw new ForbiddenError(`Could not attach to network ${record.name}: rpc error: code = PermissionDenied desc = network ${record.name} not manually attachable; containers join only overlay networks created with --attachable`);
    }
    // A network still waiting for its plugin: the plugin may have come up since the start.
    if (this.failures.get(record.id)?.waiting) await this.lookUpPlugins(record);
    const endpoint = await this.attachments.connect(network, sandboxId, request);
    if (this.held.has(record.id)) this.spares?.refreshLater(record);
    return endpoint;
  }

  /** The sandbox's endpoints take a new name (a container's rename). */
  renameEndpoints(sandboxId: string, name: string): Promise<void> {
    return this.attachments.rename(sandboxId, name);
  }

  disconnect(network: string, sandboxId: string): Promise<void> {
    return this.attachments.disconnect(network, sandboxId);
  }

  /** Whether containers on this network resolve names through the embedded DNS (127.0.0.11). */
  servesNames(network: string): boolean {
    return this.deps.dns !== undefined && hasNames(this.find(network));
  }

  /** Every sandbox. */
  sandboxes(): SandboxRecord[] {
    return this.attachments.sandboxList();
  }

  /** The ports a sandbox's endpoints publish, as published. */
  publishedPorts(sandboxId: string): PortMapping[] {
    return this.attachments.ofSandbox(sandboxId).flatMap((e) => e.ports ?? []);
  }

  /** A sandbox's addresses on all its networks (not its gateway leg's, as Docker's /etc/hosts), plain, in the order it was connected. */
  addresses(sandboxId: string): string[] {
    return this.attachments.ofSandbox(sandboxId).filter((e) => !this.isGatewayLeg(e)).flatMap((e) => [e.ipv4?.address, e.ipv6?.address].filter((a): a is string => a !== undefined).map(addressOf));
  }

  /** Publishes a sandbox's ports on the host (an empty list withdraws them); see Attachments.publish. */
  publish(sandboxId: string, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    return this.attachments.publish(sandboxId, ports);
  }

  /** A network's endpoints, or a sandbox's in the order they were connected. */
  endpoints(of: { networkId: string } | { sandboxId: string }): EndpointRecord[] {
    return 'networkId' in of ? this.attachments.ofNetwork(of.networkId) : this.attachments.ofSandbox(of.sandboxId);
  }

  // ---- networks ----

  /** Local networks, then the cluster's global ones. */
  list(): NetworkRecord[] {
    return [...this.networks.values(), ...(this.global?.list() ?? [])];
  }

  /** By full ID, then exact name, then unique ID prefix, as Docker resolves a network reference. */
  find(reference: string): NetworkRecord {
    const byId = this.byId(reference);
    if (byId) return byId;
    const byName = this.list().find((n) => n.name === reference);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]+$/.test(reference) ? this.list().filter((n) => n.id.startsWith(reference)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new InvalidParameterError(`network ${reference} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw new NotFoundError(`network ${reference} not found`);
  }

  async create(request: CreateNetworkRequest, predefined = false): Promise<NetworkRecord> {
    const name = request.name;
    if (typeof name !== 'string' || name === '') throw new InvalidParameterError('a network needs a name');
    const problem = nameProblem(name);
    if (problem) throw new InvalidParameterError(invalidNameMessage('network name', name, problem));
    const driverName = request.driver || 'bridge';
    // Built in only in a cluster: outside one, say what it takes rather than look for a plugin.
    if (driverName === 'overlay' && !this.registry.driver('overlay')) {
      throw new ForbiddenError('overlay networks span a cluster, and this daemon is in none: start it with --cluster-store etcd://HOST:PORT (or embedded) and --advertise-addr IP|IFACE');
    }
    const driver = await this.driverNamed(driverName);
    const globalScope = driver.capability.dataScope === 'global';
    if (globalScope && !this.global) {
      throw new ForbiddenError(`driver "${driverName}" has global scope: its networks live in a cluster store, and this controller has none; start it with one (the daemon's --cluster-store, createNetctl's globalStore)`);
    }
    if (!driver.usesIpam && this.list().some((n) => n.driver === driverName)) throw new ForbiddenError(`only one instance of "${driverName}" network is allowed`);
    // The controller's own IPAM (netctl's "default", or the one an embedder gave) when none is named.
    const ipamDriver = request.ipam?.driver || this.deps.ipam.name;
    const ipam = await this.ipamNamed(ipamDriver);
    const options = { ...(request.options ?? {}) };
    try {
      await driver.validateOptions(options);
    } catch (error) {
      if (error instanceof InvalidOptionError) throw new InvalidParameterError(error.message);
      throw error;
    }
    if (this.reservedNames.has(name) || this.list().some((n) => n.name === name)) throw new ConflictError(`network with name ${name} already exists`);

    this.reservedNames.add(name);
    const rollback = new Rollback();
    try {
      const record: NetworkRecord = {
        id: newId(),
        name,
        driver: driverName,
        scope: driver.capability.dataScope,
        created: new Date().toISOString(),
        internal: request.internal === true,
        attachable: request.attachable === true,
        enableIPv6: request.enableIPv6 === true,
        predefined,
        options,
        labels: { ...(request.labels ?? {}) },
        ipam: { driver: ipamDriver, options: { ...(request.ipam?.options ?? {}) }, config: [] },
        allocations: [],
      };
      if (driver.usesIpam) record.allocations = await this.addressing.allocate(record, request.ipam?.config ?? [], ipam, rollback);
      crashPoint('network-create:pools-allocated');
      record.ipam.config = record.allocations.map(configOf);
      record.options = driver.effectiveOptions(specOf(record));
      if (globalScope) {
        await this.hold(record);
        rollback.push('removing the network from the driver', () => this.unhold(record.id));
        // What the driver took from the cluster (the overlay's VNI) shows in the options every host reads.
        record.options = driver.effectiveOptions(specOf(record));
        crashPoint('network-create:driver-done');
        // The commit point: the name is claimed cluster-wide, or another host has it and all is undone.
        await this.global!.claim(record);
      } else {
        rollback.push('forgetting the tables the driver registered', () => this.forgetTables(record.id));
        await driver.createNetwork(specOf(record), this.contextOf(record.id, driver));
        rollback.push('removing the network from the driver', () => driver.deleteNetwork(specOf(record)));
        crashPoint('network-create:driver-done');
        await this.deps.store.put(NETWORK_PREFIX + record.id, Buffer.from(JSON.stringify(record)), 0);
        this.networks.set(record.id, record);
      }
      this.deps.log.info({ network: record.id, name, driver: driverName }, 'network created');
      this.changed({ action: 'create', network: record });
      return record;
    } catch (error) {
      for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, name }, `rollback: ${failure.what} failed`);
      if (error instanceof InvalidOptionError) throw new InvalidParameterError(error.message);
      throw globalScope ? clusterError(`create the global network ${name}`, error) : error;
    } finally {
      this.reservedNames.delete(name);
      this.addressing.settled(name);
    }
  }

  async delete(reference: string): Promise<void> {
    const record = this.find(reference);
    if (record.predefined) throw new ForbiddenError(`${record.name} is a pre-defined network and cannot be removed`);
    const global = this.isGlobal(record.id) ? this.global : undefined;
    if (this.attachments.ofNetwork(record.id).length > 0) {
      // A global network names every host with endpoints, this one first.
      const hosts = global ? [global.node, ...global.hostsWithEndpoints(record.id).filter((node) => node !== global.node)] : [];
      throw new ForbiddenError(global ? activeEndpointsMessage(record, hosts) : `error while removing network: network ${record.name} id ${record.id} has active endpoints`);
    }
    if (this.removing.has(record.id)) throw new NotFoundError(`network ${reference} not found`);
    this.removing.add(record.id);
    try {
      if (global) await this.removeGlobal(record, global);
      else await this.remove(record);
    } finally {
      this.removing.delete(record.id);
    }
  }

  /**
   * Takes a network out of the kernel, the store and the IPAM, in that order: a crash after the
   * first step leaves the record, and the next start brings the network back whole.
   */
  private async remove(record: NetworkRecord): Promise<void> {
    // A network whose driver is gone has nothing in the kernel that netctl could take away.
    await this.registry.driver(record.driver)?.deleteNetwork(specOf(record));
    crashPoint('network-delete:driver-done');
    await this.deps.store.delete(NETWORK_PREFIX + record.id);
    this.networks.delete(record.id);
    this.failures.delete(record.id);
    this.forgetTables(record.id);
    crashPoint('network-delete:record-deleted');
    await this.releasePools(record);
    this.deps.log.info({ network: record.id, name: record.name }, 'network removed');
    this.changed({ action: 'destroy', network: record });
  }

  /**
   * Takes a global network out of the cluster store (refused while any host has endpoints), then
   * from the driver here and its pools; the other controllers let go on seeing the record go.
   */
  private async removeGlobal(record: NetworkRecord, global: GlobalNetworks): Promise<void> {
    await global.remove(record);
    crashPoint('network-delete:record-deleted');
    await this.letGo(record);
    await this.releasePools(record);
    this.deps.log.info({ network: record.id, name: record.name }, 'global network removed');
    this.changed({ action: 'destroy', network: record });
  }

  /**
   * The network is gone for good: its gateway and aux addresses, then its pools, as Docker
   * releases them (an IPAM plugin counts them). A failure here leaks a pool (a local one until
   * the next start).
   */
  private async releasePools(record: NetworkRecord): Promise<void> {
    const ipam = this.registry.ipam(record.ipam.driver);
    for (const allocation of ipam ? record.allocations : []) {
      for (const address of [allocation.gateway, ...Object.values(allocation.auxAddresses)]) {
        if (address === undefined) continue;
        await ipam!.releaseAddress(allocation.poolId, address).catch((error: unknown) => this.deps.log.warn({ err: error, pool: allocation.poolId, address }, 'could not release a network\'s address'));
      }
      await ipam!.releasePool(allocation.poolId).catch((error: unknown) => {
        this.deps.log.warn({ err: error, pool: allocation.poolId }, 'could not release a pool; a local one is reclaimed at the next start');
      });
    }
  }

  /** Removes every removable network `select` picks; returns the removed names. */
  async prune(select: (network: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const network of this.list()) {
      // In use is not an error for prune: such networks are simply kept, as Docker does.
      if (network.predefined || !select(network) || this.attachments.ofNetwork(network.id).length > 0) continue;
      try {
        await this.delete(network.id);
      } catch (error) {
        // Endpoints on another host: kept, as one with endpoints here.
        if (error instanceof ForbiddenError && this.isGlobal(network.id)) continue;
        throw error;
      }
      removed.push(network.name);
    }
    return removed;
  }

  /** Docker's predefined networks: `none`, `host`, and unless disabled the default `bridge`. */
  async ensurePredefined(options: { bridge: boolean }): Promise<void> {
    const have = (name: string): boolean => this.list().some((n) => n.name === name && n.predefined);
    if (!have('none')) await this.create({ name: 'none', driver: 'null' }, true);
    if (!have('host')) await this.create({ name: 'host', driver: 'host' }, true);
    const bridge = this.list().find((n) => n.name === 'bridge' && n.predefined);
    if (options.bridge && !bridge) {
      await this.create(
        {
          name: 'bridge',
          driver: 'bridge',
          options: {
            'com.docker.network.bridge.default_bridge': 'true',
            'com.docker.network.bridge.enable_icc': 'true',
            'com.docker.network.bridge.enable_ip_masquerade': 'true',
            'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
            'com.docker.network.bridge.name': 'netctl0',
            'com.docker.network.driver.mtu': '1500',
          },
        },
        true,
      );
    } else if (!options.bridge && bridge) {
      // `--bridge none` on a daemon that had the default network: take it down as Docker does.
      await this.remove(bridge);
    }
  }

  /** Pools an IPAM holds for no network: a crash came between allocation and the store commit. */
  private async releaseOrphanPools(): Promise<void> {
    for (const ipam of this.registry.allIpams()) {
      if (!ipam.inventory) continue;
      const owned = new Set(this.list().filter((n) => n.ipam.driver === ipam.name).flatMap((n) => n.allocations.map((a) => a.poolId)));
      const { localDefaultAddressSpace } = await ipam.getDefaultAddressSpaces();
      for (const poolId of ipam.inventory.poolIds(localDefaultAddressSpace)) {
        if (owned.has(poolId)) continue;
        this.deps.log.warn({ pool: poolId, ipam: ipam.name }, 'pool of no network (left by a crash): releasing it');
        await ipam.releasePool(poolId);
      }
    }
  }

  /** What an endpoint's driver knows of it, for inspect. */
  endpointInfo(endpoint: EndpointRecord): Record<string, unknown> {
    return this.attachments.endpointInfo(endpoint);
  }
}

/** The network records under `prefix` into `into`; one that cannot be read is logged and left out. */
async function readRecords(deps: Pick<ControllerDeps, 'store' | 'log'>, prefix: string, into: Map<string, NetworkRecord>): Promise<void> {
  for (const entry of await deps.store.list(prefix)) {
    try {
      const record = parseNetworkRecord(entry.value.toString('utf8'));
      into.set(record.id, record);
    } catch (error) {
      deps.log.error({ err: error, key: entry.key }, 'network record unreadable: left out');
    }
  }
}
