// The CNM core: networks with unique names and 64-hex IDs, each created as one transaction over
// IPAM, a driver and the store, and brought back on daemon start; sandboxes and endpoints are
// delegated to attachments.ts.
import type { Logger } from '../util/logger';
import { type Driver, InvalidOptionError, type PortMapping } from '../drivers/driver';
import { addressOf, formatPrefix } from '../ip/address';
import { unusableRangeIn } from '../ip/ranges';
import { AUX_ADDRESS_NAME, cidrArgument, GATEWAY_ADDRESS_TYPE, type Ipam, LOCAL_SPACE, PoolOverlapError, type PoolRequest, type PoolResponse, REQUEST_ADDRESS_TYPE } from '../ipam';
import type { Store } from '../store/types';
import { crashPoint } from '../util/crash-point';
import { Rollback } from '../util/rollback';
import { Attachments, type ConnectRequest, type SandboxOptions } from './attachments';
import { type DnsDeps, DnsRegistry, hasNames } from './dns-registry';
import { type EndpointRecord, type SandboxRecord } from './endpoint-record';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from './errors';
import { type IpamConfig, type NetworkRecord, type PoolAllocation, specOf } from './network-record';
import { newId } from '../util/id';
import { invalidNameMessage, nameProblem } from '../util/names';

const NETWORK_PREFIX = 'networks/';

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
  ipam: Ipam;
  drivers: readonly Driver[];
  log: Logger;
  /** Prefixes a dynamic pool must avoid: the host's routes, read when a pool is chosen. */
  hostRoutes(): Promise<string[]>;
  /** Where sandbox namespaces are made (the daemon's exec root + /netns). */
  sandboxDir: string;
  /** The embedded DNS, when there is one: endpoints get names, sandboxes listeners. */
  dns?: DnsDeps;
}

const isV6 = (text: string): boolean => text.includes(':');

export class Controller {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly drivers = new Map<string, Driver>();
  /** Names of networks being created: a second create of the same name must fail at once. */
  private readonly reservedNames = new Set<string>();
  /** Networks whose removal has begun: no endpoint may join them any more. */
  private readonly removing = new Set<string>();
  /** Networks that could not be brought back at start, and why: listed and removable, never joined. */
  private readonly failures = new Map<string, string>();
  /** Pools networks being created hold already (pool ID → network name and subnet). */
  private readonly poolsBeingCreated = new Map<string, { network: string; pool: string }>();
  private readonly attachments: Attachments;

  private constructor(private readonly deps: ControllerDeps) {
    for (const driver of deps.drivers) this.drivers.set(driver.type, driver);
    this.attachments = new Attachments({
      store: deps.store,
      ipam: deps.ipam,
      log: deps.log,
      sandboxDir: deps.sandboxDir,
      network: (reference) => this.find(reference),
      networkById: (id) => (this.removing.has(id) ? undefined : this.networks.get(id)),
      driverOf: (network) => this.driverOf(network),
      failure: (networkId) => this.failures.get(networkId),
      ...(deps.dns ? { dns: new DnsRegistry(deps.dns) } : {}),
    });
  }

  /**
   * Loads the stored networks, sandboxes and endpoints and makes the kernel match them (see
   * Driver.restore), repairing what a crash between two steps left. A network that cannot be
   * brought back is marked (see failure()) and the rest carry on.
   */
  static async open(deps: ControllerDeps): Promise<Controller> {
    const controller = new Controller(deps);
    for (const entry of await deps.store.list(NETWORK_PREFIX)) {
      try {
        const record = JSON.parse(entry.value.toString('utf8')) as NetworkRecord;
        controller.networks.set(record.id, record);
      } catch (error) {
        deps.log.error({ err: error, key: entry.key }, 'network record unreadable: left out');
      }
    }
    await controller.attachments.load();
    for (const network of controller.list().filter((n) => !controller.drivers.has(n.driver))) controller.markFailed(network.id, new Error(`driver "${network.driver}" is not available`));
    for (const driver of controller.drivers.values()) {
      const networks = controller.list().filter((n) => n.driver === driver.type);
      const endpoints = networks.flatMap((n) => controller.attachments.ofNetwork(n.id)).map((e) => controller.attachments.endpointSpec(e));
      try {
        const { rejoin, failed } = await driver.restore(networks.map(specOf), endpoints);
        for (const failure of failed) controller.markFailed(failure.networkId, failure.error);
        await controller.attachments.rejoin(rejoin);
      } catch (error) {
        for (const network of networks) controller.markFailed(network.id, error as Error);
      }
    }
    await controller.attachments.reconcileAddresses(controller.list());
    await controller.releaseOrphanPools();
    return controller;
  }

  private markFailed(networkId: string, error: Error): void {
    const network = this.networks.get(networkId)!;
    this.failures.set(networkId, error.message);
    this.deps.log.error({ err: error, network: networkId, name: network.name }, `network ${network.name} could not be brought back: it takes no endpoints until it is removed and created again`);
  }

  /** Why a network could not be brought back when the daemon started; undefined when it works. */
  failure(networkId: string): string | undefined {
    return this.failures.get(networkId);
  }

  private driverOf(network: NetworkRecord): Driver {
    const driver = this.drivers.get(network.driver);
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

  /** Lets go of the sockets kept in sandboxes; networks, sandboxes and endpoints stay as they are. */
  close(): void {
    this.attachments.close();
  }

  sandbox(id: string): SandboxRecord {
    return this.attachments.sandbox(id);
  }

  connect(network: string, sandboxId: string, request: ConnectRequest = {}): Promise<EndpointRecord> {
    return this.attachments.connect(network, sandboxId, request);
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

  /** A sandbox's addresses on all its networks, plain, in the order it was connected. */
  addresses(sandboxId: string): string[] {
    return this.attachments.ofSandbox(sandboxId).flatMap((e) => [e.ipv4?.address, e.ipv6?.address].filter((a): a is string => a !== undefined).map(addressOf));
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

  list(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  /** By full ID, then exact name, then unique ID prefix, as Docker resolves a network reference. */
  find(reference: string): NetworkRecord {
    const byId = this.networks.get(reference);
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
    const driver = this.drivers.get(driverName);
    if (!driver) throw new NotFoundError(`plugin "${driverName}" not found`);
    if (!driver.usesIpam && this.list().some((n) => n.driver === driverName)) throw new ForbiddenError(`only one instance of "${driverName}" network is allowed`);
    const ipamDriver = request.ipam?.driver || 'default';
    if (ipamDriver !== 'default') throw new NotFoundError(`plugin "${ipamDriver}" not found (netctl's IPAM driver is "default")`);
    const options = { ...(request.options ?? {}) };
    try {
      driver.validateOptions(options);
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
      if (driver.usesIpam) record.allocations = await this.allocate(record, request.ipam?.config ?? [], rollback);
      crashPoint('network-create:pools-allocated');
      record.ipam.config = record.allocations.map(configOf);
      record.options = driver.effectiveOptions(specOf(record));
      await driver.createNetwork(specOf(record));
      rollback.push('removing the network from the driver', () => driver.deleteNetwork(specOf(record)));
      crashPoint('network-create:driver-done');
      await this.deps.store.put(NETWORK_PREFIX + record.id, Buffer.from(JSON.stringify(record)), 0);
      this.networks.set(record.id, record);
      this.deps.log.info({ network: record.id, name, driver: driverName }, 'network created');
      return record;
    } catch (error) {
      for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, name }, `rollback: ${failure.what} failed`);
      if (error instanceof InvalidOptionError) throw new InvalidParameterError(error.message);
      throw error;
    } finally {
      this.reservedNames.delete(name);
      for (const [poolId, { network }] of this.poolsBeingCreated) if (network === name) this.poolsBeingCreated.delete(poolId);
    }
  }

  async delete(reference: string): Promise<void> {
    const record = this.find(reference);
    if (record.predefined) throw new ForbiddenError(`${record.name} is a pre-defined network and cannot be removed`);
    if (this.attachments.ofNetwork(record.id).length > 0) throw new ForbiddenError(`error while removing network: network ${record.name} id ${record.id} has active endpoints`);
    if (this.removing.has(record.id)) throw new NotFoundError(`network ${reference} not found`);
    this.removing.add(record.id);
    try {
      await this.remove(record);
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
    await this.drivers.get(record.driver)?.deleteNetwork(specOf(record));
    crashPoint('network-delete:driver-done');
    await this.deps.store.delete(NETWORK_PREFIX + record.id);
    this.networks.delete(record.id);
    this.failures.delete(record.id);
    crashPoint('network-delete:record-deleted');
    // The network is gone for good: a failure here only leaks a pool until the next start.
    for (const allocation of record.allocations) {
      await this.deps.ipam.releasePool(allocation.poolId, { force: true }).catch((error: unknown) => {
        this.deps.log.warn({ err: error, pool: allocation.poolId }, 'could not release a pool; it is reclaimed at the next start');
      });
    }
    this.deps.log.info({ network: record.id, name: record.name }, 'network removed');
  }

  /** Removes every removable network `select` picks; returns the removed names. */
  async prune(select: (network: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const network of this.list()) {
      // In use is not an error for prune: such networks are simply kept, as Docker does.
      if (network.predefined || !select(network) || this.attachments.ofNetwork(network.id).length > 0) continue;
      await this.delete(network.id);
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

  /** Pools, gateways and aux addresses of a new network, each registered for rollback. */
  private async allocate(record: NetworkRecord, requested: Array<Partial<IpamConfig>>, rollback: Rollback): Promise<PoolAllocation[]> {
    const { ipam } = this.deps;
    const entries = requested.map((c) => ({ ...c, v6: isV6(c.subnet ?? c.gateway ?? '') }));
    const v6Given = entries.filter((e) => e.v6);
    if (v6Given.length > 0 && !record.enableIPv6) {
      throw new InvalidParameterError(`IPv6 ${v6Given[0]!.subnet !== undefined ? `subnet ${v6Given[0]!.subnet}` : `gateway ${v6Given[0]!.gateway}`} given but IPv6 is not enabled on the network: add --ipv6 (EnableIPv6)`);
    }
    for (const entry of entries) {
      if (entry.subnet === undefined && (entry.ipRange !== undefined || entry.gateway !== undefined || entry.auxAddresses !== undefined)) {
        throw new InvalidParameterError('an IPAM config with a gateway, IP range or aux addresses needs its subnet');
      }
    }
    for (const entry of entries) {
      const unusable = entry.subnet === undefined ? undefined : unusableRangeIn(cidrArgument(entry.subnet, 'subnet'));
      if (unusable) throw new InvalidParameterError(`subnet ${entry.subnet} reaches into ${unusable}, which no network can use; choose a private range such as 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8`);
    }
    if (!entries.some((e) => !e.v6)) entries.unshift({ v6: false });
    if (record.enableIPv6 && v6Given.length === 0) entries.push({ v6: true });
    const needRoutes = entries.some((e) => e.subnet === undefined);
    const exclude = needRoutes ? await this.deps.hostRoutes() : [];

    const allocations: PoolAllocation[] = [];
    for (const entry of entries) {
      const { poolId, pool } = await this.requestPool(
        record.name,
        {
          addressSpace: LOCAL_SPACE,
          ...(entry.subnet !== undefined ? { pool: entry.subnet } : { exclude }),
          ...(entry.ipRange !== undefined ? { subPool: entry.ipRange } : {}),
          v6: entry.v6,
        },
        rollback,
      );
      const gateway = await ipam.requestAddress(poolId, entry.gateway, { [REQUEST_ADDRESS_TYPE]: GATEWAY_ADDRESS_TYPE });
      const auxAddresses: Record<string, string> = {};
      for (const [auxName, ip] of Object.entries(entry.auxAddresses ?? {})) {
        auxAddresses[auxName] = await ipam.requestAddress(poolId, ip, { [AUX_ADDRESS_NAME]: auxName });
      }
      allocations.push({ poolId, addressSpace: LOCAL_SPACE, v6: entry.v6, pool, ...(entry.ipRange !== undefined ? { ipRange: entry.ipRange } : {}), gateway, auxAddresses });
    }
    return allocations;
  }

  /**
   * A pool of a new network, registered for rollback. The IPAM shares an identical static pool
   * between its callers (as libnetwork's does for plugins), but two networks on one subnet leave
   * their containers unreachable: a subnet another network has is refused, as Docker refuses it.
   */
  private async requestPool(network: string, request: PoolRequest, rollback: Rollback): Promise<PoolResponse> {
    const { ipam } = this.deps;
    // Before the IPAM is asked: it would give this network a share of the other's pool.
    if (request.pool !== undefined) this.refuseHeld(network, formatPrefix(cidrArgument(request.pool, 'subnet')));
    let response: PoolResponse;
    try {
      response = await ipam.requestPool(request);
    } catch (error) {
      if (!(error instanceof PoolOverlapError)) throw error;
      const holder = this.poolHolder(error.existing);
      if (holder === network) throw new InvalidParameterError(`subnets ${error.existing} and ${error.requested} overlap; give the network subnets that do not`);
      throw holder ? poolOverlap(`subnet ${error.requested} overlaps ${error.existing} of network ${holder}; choose a subnet that does not overlap`) : error;
    }
    rollback.push(`releasing pool ${response.poolId}`, () => ipam.releasePool(response.poolId, { force: true }));
    // A network created at the same time may have had the same subnet meanwhile.
    this.refuseHeld(network, response.pool);
    this.poolsBeingCreated.set(response.poolId, { network, pool: response.pool });
    return response;
  }

  private refuseHeld(network: string, pool: string): void {
    const holder = this.poolHolder(pool);
    if (holder === network) throw new InvalidParameterError(`subnet ${pool} is given twice; give it once`);
    if (holder) throw poolOverlap(`subnet ${pool} is network ${holder}'s; choose another subnet, or connect the containers to ${holder}`);
  }

  /** The network, made or being made, whose subnet `pool` is. */
  private poolHolder(pool: string): string | undefined {
    const made = this.list().find((n) => n.allocations.some((a) => a.pool === pool));
    if (made) return made.name;
    return [...this.poolsBeingCreated.values()].find((creating) => creating.pool === pool)?.network;
  }

  /** Pools the IPAM holds for no network: a crash came between allocation and the store commit. */
  private async releaseOrphanPools(): Promise<void> {
    const owned = new Set(this.list().flatMap((n) => n.allocations.map((a) => a.poolId)));
    for (const poolId of this.deps.ipam.poolIds(LOCAL_SPACE)) {
      if (owned.has(poolId)) continue;
      this.deps.log.warn({ pool: poolId }, 'pool of no network (left by a crash): releasing it');
      await this.deps.ipam.releasePool(poolId, { force: true });
    }
  }
}

/** Docker's words for a subnet another network has, then which network and what to do. */
const poolOverlap = (detail: string): ForbiddenError => new ForbiddenError(`Pool overlaps with other one on this address space: ${detail}`);

/** The IPAM config inspect shows: what was allocated, addresses without their prefix length. */
function configOf(allocation: PoolAllocation): IpamConfig {
  const aux = Object.fromEntries(Object.entries(allocation.auxAddresses).map(([k, v]) => [k, addressOf(v)]));
  return {
    subnet: allocation.pool,
    ...(allocation.ipRange !== undefined ? { ipRange: allocation.ipRange } : {}),
    ...(allocation.gateway !== undefined ? { gateway: addressOf(allocation.gateway) } : {}),
    ...(Object.keys(aux).length > 0 ? { auxAddresses: aux } : {}),
  };
}
