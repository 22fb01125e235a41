// Sandboxes and the endpoints that attach them to networks. Connecting is one transaction:
// addresses from the network's IPAM, the driver's endpoint and join (the interface appears in the
// sandbox, or is handed over and moved in), addresses, routes and up inside, the cluster's table
// entries, the store; a failure undoes every step. Work on one sandbox is serialised (interface
// names and the default route depend on its other endpoints). The pieces: endpoint-addresses.ts,
// gateway-choice.ts, gateway-leg.ts, interface-names.ts, mac.ts, port-publishing.ts, tables.ts, dns-registry.ts,
// sandbox-table.ts.
import net from 'node:net';
import type { Logger } from '../util/logger';
import type { Driver, EndpointSpec, JoinInfo, PortMapping, TableEntry } from '../drivers/driver';
import { type IpamDriver, type IpamRequestOptions, MAC_ADDRESS_OPTION, SERIAL_ALLOCATION_OPTION } from '../ipam';
import type { Ownership } from '../kernel/ownership';
import type { LinkRef, NetlinkHandle } from '../netlink';
import { Sandbox } from '../sandbox';
import { StoreUnavailableError } from '../store/errors';
import type { Store } from '../store/types';
import { crashPoint } from '../util/crash-point';
import { Rollback } from '../util/rollback';
import { KeyedSerialQueue } from '../util/serial';
import { acceptProposal, allocateAddress, reconcileAddresses } from './endpoint-addresses';
import { byConnectOrder, EndpointIndex } from './endpoint-index';
import { type EndpointAddress, type EndpointRecord, endpointSpecOf, type SandboxRecord } from './endpoint-record';
import type { DnsRegistry } from './dns-registry';
import { ClusterUnavailableError, DriverContractError, ForbiddenError, InvalidParameterError, NotFoundError } from './errors';
import type { ExternalKey } from './external-key';
import { defaultRouteChanges } from './gateway-choice';
import { GATEWAY_NETWORK, gatewayLegName, isGatewayLeg, needsGatewayLeg } from './gateway-leg';
import { nextInterfaceName, preferredIndex } from './interface-names';
import { MAC, macFor } from './mac';
import { type NetworkRecord, specOf } from './network-record';
import { portCarrier, programPorts, type PortPublishingDeps, revokePorts } from './port-publishing';
import { SandboxTable } from './sandbox-table';
import { type SpareAddresses, SPARES_PER_POOL } from './spare-addresses';
import { storedEntries, type TablePublisher, tableEntries } from './tables';
import { newId } from '../util/id';
import { invalidNameMessage, nameProblem } from '../util/names';

const ENDPOINT_PREFIX = 'endpoints/';

export interface ConnectRequest {
  /** The endpoint's name; Docker uses the container's name. Defaults to the sandbox's ID prefix. */
  name?: string;
  /** The container's hostname, also answered by the embedded DNS. */
  hostname?: string;
  /** Static addresses (plain, without a prefix length), as `--ip` and `--ip6`. */
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  aliases?: string[];
}

export interface SandboxOptions {
  containerId?: string;
  /** Who makes the sandbox, kept in its record (see SandboxRecord.owner). */
  owner?: string;
  /** Resolvers its embedded DNS forwards to instead of the daemon's. */
  dns?: string[];
  /** A namespace the caller made and keeps (see external-key.ts): used, never removed. */
  key?: ExternalKey;
}

export interface AttachmentDeps {
  store: Store;
  log: Logger;
  /** Where sandbox namespaces are made. */
  sandboxDir: string;
  /** A handle in the namespace the networks belong to: interfaces drivers hand over are moved from there. */
  netlink: NetlinkHandle;
  /** How the controller marks what it makes (its link group marks interfaces in sandboxes). */
  ownership: Ownership;
  network(reference: string): NetworkRecord;
  /** A network by ID; undefined once its removal has begun. */
  networkById(id: string): NetworkRecord | undefined;
  driverOf(network: NetworkRecord): Driver;
  /** The network's IPAM driver; undefined when it is not registered (the network failed at start). */
  ipamOf(network: NetworkRecord): IpamDriver | undefined;
  /** Why a network could not be brought back at start, if it could not: it takes no endpoints. */
  failure(networkId: string): string | undefined;
  /** The embedded DNS, when the daemon runs one. */
  dns?: DnsRegistry;
  /** The cluster's tables, when there is a cluster. */
  tables?: TablePublisher;
  /**
   * netctl_gwbridge, made now if there is none: given, sandboxes whose endpoints offer no gateway
   * get a leg on it (see gateway-leg.ts).
   */
  gatewayNetwork?(): Promise<NetworkRecord>;
  /** Told of each endpoint once it has joined, and once it has left. */
  endpointChanged?(action: 'connect' | 'disconnect', endpoint: EndpointRecord): void;
  /** Told before an endpoint is made on a network (a failure refuses the connect) and after one is gone. */
  presence?: {
    entering(network: NetworkRecord, endpointId: string): Promise<void>;
    left(networkId: string, endpointId: string): Promise<void>;
    /** Takes a release the cluster store could not take (etcd unreachable), to do once it answers. */
    later?(work: () => Promise<void>): void;
  };
  /** Spare addresses of global networks, for dynamic joins while the cluster store is unreachable. */
  spares?: Pick<SpareAddresses, 'take' | 'giveBack' | 'storeUnreachable'>;
}

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export class Attachments {
  private readonly sandboxes: SandboxTable;
  private readonly endpoints = new EndpointIndex();
  /** Per sandbox: its connects, disconnects and deletion one at a time. */
  private readonly queues = new KeyedSerialQueue();
  private readonly publishing: PortPublishingDeps;
  /** Endpoints dropped at load whose drivers hear of it once restored (dropStranded), and the sandboxes that went with them. */
  private readonly stranded: EndpointRecord[] = [];
  private readonly goneSandboxes: string[] = [];

  constructor(private readonly deps: AttachmentDeps) {
    this.sandboxes = new SandboxTable(deps);
    this.publishing = {
      networkOf: (endpoint) => this.networkOf(endpoint),
      driverOf: (network) => deps.driverOf(network),
      endpointSpec: (endpoint) => this.endpointSpec(endpoint),
      save: (endpoint) => this.save(endpoint),
    };
  }

  /**
   * Loads what the store holds and repairs what a crash may have left between steps: namespaces
   * of no sandbox and interfaces of no endpoint are removed; sandboxes whose namespace is gone (a
   * reboot, an external key's process that ended) are dropped with their endpoints.
   */
  async load(): Promise<void> {
    const { store, log } = this.deps;
    this.goneSandboxes.push(...(await this.sandboxes.load()));
    for (const entry of await store.list(ENDPOINT_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as EndpointRecord;
      this.endpoints.track(record);
    }
    for (const endpoint of [...this.endpoints.all()]) {
      if (this.sandboxes.has(endpoint.sandboxId) && this.deps.networkById(endpoint.networkId)) continue;
      log.warn({ endpoint: endpoint.id }, 'endpoint of no sandbox or network: dropping it');
      this.endpoints.untrack(endpoint);
      if (this.deps.networkById(endpoint.networkId)) this.stranded.push(endpoint);
      else await this.forget(endpoint);
    }
    await this.removeStrayInterfaces();
    for (const endpoint of this.endpoints.all()) this.deps.dns?.register(endpoint, this.deps.networkById(endpoint.networkId)!);
    for (const sandbox of this.sandboxes.list()) this.openDns(sandbox);
  }

  /** Interfaces netctl put in a sandbox for an endpoint it never recorded (a crash between the two). */
  private async removeStrayInterfaces(): Promise<void> {
    for (const id of this.sandboxes.ids()) {
      const sandbox = this.sandboxes.opening(id);
      try {
        const removed = await sandbox.removeStrayInterfaces(new Set(this.ofSandbox(id).map((e) => e.ifname)), this.deps.ownership.linkGroup);
        if (removed.length > 0) this.deps.log.warn({ sandbox: id, interfaces: removed }, 'interfaces of no endpoint (left by a crash): removed them');
      } catch (error) {
        this.deps.log.error({ err: error, sandbox: id }, 'could not check the sandbox for interfaces of no endpoint');
      } finally {
        this.sandboxes.closeHandle(id);
      }
    }
  }

  /** See endpoint-addresses.ts: each IPAM that can tell is made to hold exactly the endpoints' addresses. */
  reconcileAddresses(networks: readonly NetworkRecord[]): Promise<void> {
    return reconcileAddresses(this.endpoints.all(), networks, (network) => this.deps.ipamOf(network), this.deps.log);
  }

  /** The sandbox's DNS listeners; a sandbox whose namespace cannot take them still works, without names. */
  private openDns(sandbox: SandboxRecord): void {
    try {
      this.deps.dns?.open(sandbox, () => this.ofSandbox(sandbox.id).map((e) => ({ network: this.deps.networkById(e.networkId)! })).filter((e) => e.network));
    } catch (error) {
      this.deps.log.error({ err: error, sandbox: sandbox.id }, 'could not open the DNS listeners in the sandbox');
    }
  }

  /**
   * Joins again endpoints whose interface a driver reported missing at restore. One that cannot
   * join (its macvlan parent is gone, say) is logged with the reason and kept, without an
   * interface, for its container to disconnect: the daemon starts and serves the others.
   */
  async rejoin(endpointIds: readonly string[]): Promise<void> {
    for (const id of endpointIds) {
      const endpoint = this.endpoints.get(id);
      if (!endpoint) continue;
      this.deps.log.warn({ endpoint: id, ifname: endpoint.ifname }, 'endpoint interface missing: joining it again');
      const sandbox = this.sandboxes.opening(endpoint.sandboxId);
      await this.queues.run(endpoint.sandboxId, async () => {
        const rollback = new Rollback();
        try {
          await this.plumb(endpoint, sandbox, rollback);
          await this.save(endpoint);
        } catch (error) {
          for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, endpoint: id }, `rollback: ${failure.what} failed`);
          this.deps.log.error({ err: error, endpoint: id, sandbox: endpoint.sandboxId }, `endpoint could not join again (${(error as Error).message}): its container has no interface on that network until it is disconnected and connected again`);
        }
      });
    }
  }

  /**
   * At start: gives or takes away the gateway leg of sandboxes whose endpoints now say otherwise
   * (a crash between an endpoint and its leg, or a network gone while the daemon was down).
   */
  async settleGatewayLegs(): Promise<void> {
    for (const id of [...this.sandboxes.ids()]) {
      if (this.needsGatewayLeg(id) === (this.gatewayLegOf(id) !== undefined)) continue;
      this.deps.log.warn({ sandbox: id }, `sandbox's leg on ${GATEWAY_NETWORK} does not match its endpoints: settling it`);
      await this.queues.run(id, async () => {
        try {
          await this.settleGatewayLeg(id, this.sandboxes.opening(id));
        } finally {
          this.sandboxes.closeHandle(id);
        }
      });
    }
  }

  /** Lets go of the sandboxes' netlink sockets and held keys (the sandboxes stay). */
  close(): void {
    this.sandboxes.close();
  }

  sandboxList(): SandboxRecord[] {
    return this.sandboxes.list();
  }

  sandbox(id: string): SandboxRecord {
    return this.sandboxes.get(id);
  }

  /** The driver's view of an endpoint. */
  endpointSpec(endpoint: EndpointRecord): EndpointSpec {
    return endpointSpecOf(endpoint, this.sandboxes.keyOf(endpoint.sandboxId));
  }

  /** Endpoints of a network, including those being connected right now. */
  ofNetwork(networkId: string): EndpointRecord[] {
    return this.endpoints.ofNetwork(networkId);
  }

  /** Endpoints of a sandbox in the order they were connected. */
  ofSandbox(sandboxId: string): EndpointRecord[] {
    return this.endpoints.ofSandbox(sandboxId);
  }

  /** What the endpoint's driver knows of it (for inspect). */
  endpointInfo(endpoint: EndpointRecord): Record<string, unknown> {
    const network = this.networkOf(endpoint);
    try {
      return this.deps.driverOf(network).endpointInfo(specOf(network), this.endpointSpec(endpoint));
    } catch {
      return {}; // a driver that is gone knows nothing
    }
  }

  private networkOf(endpoint: EndpointRecord): NetworkRecord {
    return this.deps.networkById(endpoint.networkId)!;
  }

  private async save(endpoint: EndpointRecord): Promise<void> {
    await this.deps.store.put(ENDPOINT_PREFIX + endpoint.id, encode(endpoint));
  }

  async createSandbox(options: SandboxOptions = {}): Promise<SandboxRecord> {
    const bad = (options.dns ?? []).find((ip) => net.isIP(ip) === 0);
    if (bad !== undefined) throw new InvalidParameterError(`invalid DNS server "${bad}": give an IP address`);
    const fields = {
      ...(options.containerId ? { containerId: options.containerId } : {}),
      ...(options.owner ? { owner: options.owner } : {}),
      ...(options.dns && options.dns.length > 0 ? { dns: [...options.dns] } : {}),
    };
    const record = await this.sandboxes.make(newId(), fields, options.key);
    this.openDns(record);
    return record;
  }

  /** Disconnects every endpoint, then removes the namespace (one netctl made). */
  async deleteSandbox(id: string): Promise<void> {
    const record = this.sandbox(id);
    await this.queues.run(id, async () => {
      // As Docker removes a container whose network's plugin is gone: what its driver cannot undo is logged, not in the way.
      for (const endpoint of this.ofSandbox(id).reverse()) await this.detach(endpoint, undefined, true);
      crashPoint('sandbox-delete:endpoints-gone');
      this.deps.dns?.close(record.key);
      this.sandboxes.letGo(record);
      crashPoint('sandbox-delete:namespace-gone');
      await this.sandboxes.dropRecord(id);
    });
    this.queues.forget(id);
  }

  /** A container's rename: its endpoints take the new name, which the embedded DNS answers from now on. */
  async rename(sandboxId: string, name: string): Promise<void> {
    const problem = nameProblem(name);
    if (problem) throw new InvalidParameterError(invalidNameMessage('endpoint name', name, problem));
    await this.queues.run(sandboxId, async () => {
      // The gateway leg keeps its name: it is how it is known (as Docker's Rename skips it).
      const renames = this.ofSandbox(sandboxId)
        .filter((endpoint) => !this.isGatewayLeg(endpoint))
        .map((endpoint) => {
          const network = this.networkOf(endpoint);
          return { endpoint, network, entries: this.renamedEntries(network, endpoint, name) };
        });
      // Other hosts answer for an endpoint from what it published, so the new name goes to them
      // first: an entry that cannot be published leaves every endpoint as it was.
      await this.publishAll(renames.flatMap(({ endpoint, network, entries }) => (entries ? [{ network, entries, previous: tableEntries(endpoint.tableEntries!) }] : [])), name);
      for (const { endpoint, network, entries } of renames) {
        endpoint.name = name;
        if (entries) endpoint.tableEntries = storedEntries(entries);
        await this.deps.store.put(ENDPOINT_PREFIX + endpoint.id, encode(endpoint));
        this.deps.dns?.register(endpoint, network);
      }
    });
  }

  /** Publishes each network's renamed entries; on a failure, those published so far go back to what they were. */
  private async publishAll(changes: Array<{ network: NetworkRecord; entries: TableEntry[]; previous: TableEntry[] }>, name: string): Promise<void> {
    for (const [index, { network, entries }] of changes.entries()) {
      try {
        await this.deps.tables!.publish(network.id, entries);
      } catch (error) {
        for (const done of changes.slice(0, index)) {
          await this.deps.tables!.publish(done.network.id, done.previous).catch((again: unknown) => this.deps.log.error({ err: again, network: done.network.id }, 'could not publish the endpoint\'s entries under its old name again'));
        }
        // What the cluster refuses is the entry the new name makes (too large to gossip, say).
        throw new InvalidParameterError(`cannot rename to ${name}: the endpoint's entries on network ${network.name} cannot be published with it (${(error as Error).message}); choose a shorter name`);
      }
    }
  }

  /** The endpoint's published table entries as they read under `name`; undefined when none changes. */
  private renamedEntries(network: NetworkRecord, endpoint: EndpointRecord, name: string): TableEntry[] | undefined {
    if (!endpoint.tableEntries?.length || !this.deps.tables) return undefined;
    let driver: Driver;
    try {
      driver = this.deps.driverOf(network);
    } catch {
      return undefined; // a driver that is gone publishes nothing new
    }
    if (!driver.renamedEntry) return undefined;
    let changed = false;
    const entries = tableEntries(endpoint.tableEntries).map((entry) => {
      const value = driver.renamedEntry!(entry.table, entry.value, name);
      if (value === undefined) return entry;
      changed = true;
      return { ...entry, value };
    });
    return changed ? entries : undefined;
  }

  async connect(networkReference: string, sandboxId: string, request: ConnectRequest = {}): Promise<EndpointRecord> {
    const network = this.deps.network(networkReference);
    this.sandbox(sandboxId);
    const name = request.name ?? sandboxId.slice(0, 12);
    // Every name the embedded DNS will answer with, checked where container create and connect meet.
    for (const [kind, value] of [['endpoint name', name] as const, ...(request.aliases ?? []).map((alias) => ['network alias', alias] as const)]) {
      const problem = nameProblem(value);
      if (problem) throw new InvalidParameterError(invalidNameMessage(kind, value, problem));
    }
    if (request.mac !== undefined && !MAC.test(request.mac)) throw new InvalidParameterError(`invalid MAC address "${request.mac}": use six hex pairs like 02:42:ac:11:00:02`);
    for (const [family, ip] of [['IPv4', request.ipv4], ['IPv6', request.ipv6]] as const) {
      if (ip !== undefined && net.isIP(ip) !== (family === 'IPv4' ? 4 : 6)) throw new InvalidParameterError(`invalid ${family} address "${ip}"`);
    }
    if (request.ipv6 !== undefined && !network.enableIPv6) throw new InvalidParameterError(`network ${network.name} has no IPv6: it was created without --ipv6`);
    const failure = this.deps.failure(network.id);
    if (failure !== undefined) throw new ForbiddenError(`network ${network.name} could not be brought back when the daemon started (${failure}): remove it and create it again`);
    return this.queues.run(sandboxId, async () => {
      if (!this.deps.networkById(network.id)) throw new NotFoundError(`network ${networkReference} not found`);
      if (this.ofSandbox(sandboxId).some((e) => e.networkId === network.id)) throw new ForbiddenError(`endpoint with name ${name} already exists in network ${network.name}`);
      const endpoint = await this.attach(network, sandboxId, name, request);
      // An endpoint offering a gateway makes the sandbox's gateway leg unneeded.
      await this.settleGatewayLeg(sandboxId, this.sandboxes.opening(sandboxId));
      return endpoint;
    });
  }

  /**
   * Makes an endpoint and joins it: addresses, the driver's endpoint and join, the gateway leg it
   * may need, the store; a failure undoes every step.
   */
  private async attach(network: NetworkRecord, sandboxId: string, name: string, request: ConnectRequest): Promise<EndpointRecord> {
    const driver = this.deps.driverOf(network);
    const endpoint: EndpointRecord = {
      id: newId(),
      name,
      ...(request.hostname ? { hostname: request.hostname } : {}),
      networkId: network.id,
      sandboxId,
      ifname: '',
      // Empty until the driver's proposal or the default fills it: the driver sees what was asked.
      mac: request.mac?.toLowerCase() ?? '',
      aliases: [...(request.aliases ?? [])],
      ...(request.ipv4 !== undefined || request.ipv6 !== undefined ? { requested: { ...(request.ipv4 !== undefined ? { ipv4: request.ipv4 } : {}), ...(request.ipv6 !== undefined ? { ipv6: request.ipv6 } : {}) } } : {}),
      created: new Date().toISOString(),
    };
    // Listed before any await: a network removal from now on sees the endpoint and refuses.
    this.endpoints.track(endpoint);
    const rollback = new Rollback();
    rollback.push('forgetting the endpoint', () => this.endpoints.untrack(endpoint));
    try {
      if (this.deps.presence) {
        await this.deps.presence.entering(network, endpoint.id);
        rollback.push('withdrawing the endpoint from the cluster', () => this.deps.presence!.left(network.id, endpoint.id));
      }
      const ipam = this.deps.ipamOf(network);
      if (driver.usesIpam && ipam) {
        // An IPAM that wants the MAC gets one chosen now (random, as libnetwork's), not from the address.
        if (ipam.capabilities.requiresMacAddress && endpoint.mac === '') endpoint.mac = macFor(undefined);
        // Local networks take the lowest free address, as dockerd's; global ones stay serial (as swarm
        // asks), so daemons sharing a pool do not race for one address.
        const options = {
          ...(ipam.capabilities.requiresMacAddress ? { [MAC_ADDRESS_OPTION]: endpoint.mac } : {}),
          ...(network.scope === 'local' ? { [SERIAL_ALLOCATION_OPTION]: 'false' } : {}),
        };
        const ipv4 = await this.allocate(ipam, network, false, request.ipv4, rollback, options);
        const ipv6 = network.enableIPv6 ? await this.allocate(ipam, network, true, request.ipv6, rollback, options) : undefined;
        if (ipv4) endpoint.ipv4 = ipv4;
        if (ipv6) endpoint.ipv6 = ipv6;
      }
      crashPoint('connect:addresses-allocated');
      const proposal = await driver.createEndpoint(specOf(network), this.endpointSpec(endpoint));
      rollback.push(`deleting the endpoint of driver ${driver.type}`, () => driver.deleteEndpoint(specOf(network), this.endpointSpec(endpoint)));
      acceptProposal(endpoint, proposal, driver.type, network);
      if (endpoint.mac === '') endpoint.mac = macFor(endpoint.ipv4?.address);
      const sandbox = this.sandboxes.opening(sandboxId);
      await this.plumb(endpoint, sandbox, rollback, request.mac !== undefined);
      crashPoint('connect:configured');
      if (!this.isGatewayLeg(endpoint)) await this.addGatewayLegIfNeeded(sandboxId, sandbox, rollback);
      await this.deps.store.put(ENDPOINT_PREFIX + endpoint.id, encode(endpoint), 0);
      this.deps.dns?.register(endpoint, network);
      this.deps.log.info({ endpoint: endpoint.id, network: network.id, sandbox: sandboxId, ifname: endpoint.ifname }, 'endpoint connected');
      this.deps.endpointChanged?.('connect', endpoint);
      return endpoint;
    } catch (error) {
      for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, endpoint: endpoint.id }, `rollback: ${failure.what} failed`);
      throw error;
    }
  }

  /**
   * An endpoint address from the IPAM; on a global network whose store is unreachable, a dynamic
   * one is one of this host's spares, and a given one is refused (only the store can claim it).
   */
  private async allocate(ipam: IpamDriver, network: NetworkRecord, v6: boolean, ip: string | undefined, rollback: Rollback, options: IpamRequestOptions): Promise<EndpointAddress | undefined> {
    const spares = network.scope === 'global' ? this.deps.spares : undefined;
    // Known down: asking would wait out the store's retry window before failing.
    let why = spares?.storeUnreachable() ? 'it did not answer the last time it was asked' : undefined;
    if (why === undefined) {
      try {
        return await allocateAddress(ipam, network, v6, ip, rollback, options);
      } catch (error) {
        if (!spares || !(error instanceof StoreUnavailableError)) throw error;
        why = error.message;
      }
    }
    const unreachable = `cannot connect to the global network ${network.name}: the cluster store is unreachable (${why})`;
    if (ip !== undefined) throw new ClusterUnavailableError(`${unreachable}. A given address (--ip) can only be claimed there: leave it out to take one of this host's spare addresses, or retry when the store answers`);
    const spare = await spares!.take(network, v6);
    if (!spare) throw new ClusterUnavailableError(`${unreachable}, and this host has no spare ${v6 ? 'IPv6' : 'IPv4'} address of it left (it keeps ${SPARES_PER_POOL} per pool while the store answers); retry when the store answers`);
    rollback.push(`giving back spare address ${spare.address}`, () => spares!.giveBack(network, spare));
    return spare;
  }

  /** Whether the endpoint is its sandbox's leg on netctl_gwbridge, which the core adds and removes by itself. */
  isGatewayLeg(endpoint: EndpointRecord): boolean {
    const network = this.deps.networkById(endpoint.networkId);
    return network !== undefined && isGatewayLeg({ name: endpoint.name, networkName: network.name });
  }

  /** The sandbox's gateway leg, if it has one. */
  private gatewayLegOf(sandboxId: string): EndpointRecord | undefined {
    return this.ofSandbox(sandboxId).find((e) => this.isGatewayLeg(e));
  }

  private needsGatewayLeg(sandboxId: string): boolean {
    if (!this.deps.gatewayNetwork) return false;
    return needsGatewayLeg(
      this.ofSandbox(sandboxId).flatMap((endpoint) => {
        const network = this.deps.networkById(endpoint.networkId);
        return network ? [{ ...endpoint, networkName: network.name, internal: network.internal, hasInterface: endpoint.ifname !== '' }] : [];
      }),
    );
  }

  /** Gives the sandbox its gateway leg if it needs one now; the rollback takes it away again. */
  private async addGatewayLegIfNeeded(sandboxId: string, sandbox: Sandbox, rollback: Rollback): Promise<void> {
    if (!this.needsGatewayLeg(sandboxId) || this.gatewayLegOf(sandboxId)) return;
    const leg = await this.attachGatewayLeg(sandboxId);
    rollback.push(`removing the leg on ${GATEWAY_NETWORK}`, () => this.detach(leg, sandbox));
  }

  private async attachGatewayLeg(sandboxId: string): Promise<EndpointRecord> {
    try {
      return await this.attach(await this.deps.gatewayNetwork!(), sandboxId, gatewayLegName(sandboxId), {});
    } catch (error) {
      // Its kind (and so its HTTP status) stays; the message says which step failed.
      if (error instanceof Error) error.message = `the sandbox's way out, a leg on ${GATEWAY_NETWORK}, could not be made: ${error.message}`;
      throw error;
    }
  }

  /**
   * After a connect or disconnect: the gateway leg goes when an endpoint now offers a gateway,
   * comes when one needs it and none offers one, and `orphanPorts` (those of a disconnected
   * endpoint) or the leg's ports move to the endpoint now carrying the sandbox's ports. A failure
   * here is logged: the connect or disconnect itself is done.
   */
  private async settleGatewayLeg(sandboxId: string, sandbox: Sandbox, orphanPorts?: PortMapping[]): Promise<void> {
    let ports = orphanPorts;
    const leg = this.gatewayLegOf(sandboxId);
    const need = this.needsGatewayLeg(sandboxId);
    try {
      if (leg && !need) {
        if (leg.ports?.length) ports = leg.ports;
        await this.detach(leg, sandbox);
      } else if (!leg && need) {
        await this.attachGatewayLeg(sandboxId);
      }
    } catch (error) {
      this.deps.log.error({ err: error, sandbox: sandboxId }, leg ? `could not remove the sandbox's leg on ${GATEWAY_NETWORK}` : (error as Error).message);
    }
    const endpoints = this.ofSandbox(sandboxId);
    const carrier = portCarrier(endpoints);
    if (!ports?.length || !carrier || endpoints.some((e) => e.ports?.length)) return;
    await programPorts(this.publishing, carrier, ports).catch((error: unknown) => this.deps.log.error({ err: error, endpoint: carrier.id }, 'could not publish the sandbox\'s ports through its new gateway endpoint'));
  }

  async disconnect(networkReference: string, sandboxId: string): Promise<void> {
    const network = this.deps.network(networkReference);
    this.sandbox(sandboxId);
    await this.queues.run(sandboxId, async () => {
      const endpoint = this.ofSandbox(sandboxId).find((e) => e.networkId === network.id);
      if (!endpoint) throw new ForbiddenError(`sandbox ${sandboxId.slice(0, 12)} is not connected to network ${network.name}`);
      const sandbox = this.sandboxes.opening(sandboxId);
      const ports = endpoint.ports;
      await this.detach(endpoint, sandbox);
      await this.settleGatewayLeg(sandboxId, sandbox, ports);
    });
  }

  /**
   * Publishes ports of the sandbox through the endpoint that carries its IPv4 default route (the
   * first-connected one otherwise); an empty list withdraws what was published. Resolves with
   * the ports as published.
   */
  async publish(sandboxId: string, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    this.sandbox(sandboxId);
    return this.queues.run(sandboxId, async () => {
      const endpoints = this.ofSandbox(sandboxId);
      const carrier = portCarrier(endpoints);
      if (ports.length > 0 && !carrier) throw new InvalidParameterError('publishing ports needs a network: the container is connected to none');
      const previous = endpoints.flatMap((endpoint) => (endpoint.ports ? [{ endpoint, ports: endpoint.ports }] : []));
      for (const endpoint of endpoints) await revokePorts(this.publishing, endpoint);
      if (ports.length === 0) return [];
      try {
        return await programPorts(this.publishing, carrier!, ports);
      } catch (error) {
        // Nothing half-done: what the sandbox published before is published again.
        for (const { endpoint, ports: old } of previous) {
          await programPorts(this.publishing, endpoint, old).catch((again: unknown) => this.deps.log.error({ err: again, endpoint: endpoint.id }, 'could not publish the previous ports again'));
        }
        throw error;
      }
    });
  }

  /**
   * The driver's join and the layer 3 inside the sandbox: the interface made in place or moved
   * in and named, its addresses, up, its static routes and the default routes it now carries,
   * then the table entries it publishes.
   */
  private async plumb(endpoint: EndpointRecord, sandbox: Sandbox, rollback: Rollback, macRequested = false): Promise<void> {
    const network = this.networkOf(endpoint);
    const spec = specOf(network);
    const driver = this.deps.driverOf(network);
    const others = this.ofSandbox(endpoint.sandboxId).filter((e) => e !== endpoint);
    const used = new Set(others.map((e) => e.ifname));
    // An endpoint joining again (after a restart) keeps its name while it is free.
    const previous = endpoint.ifname;
    const keepOr = (prefix: string): string => (previous.startsWith(prefix) && !used.has(previous) ? previous : nextInterfaceName(prefix, used));
    const candidate = keepOr(driver.interfacePrefix(spec));
    const info: JoinInfo = await driver.join(spec, this.endpointSpec(endpoint), { sandboxKey: sandbox.key, sandboxFd: sandbox.descriptor(), ifname: candidate, preferredIndex: preferredIndex(candidate) });
    rollback.push(`leaving network ${network.name}`, () => driver.leave(spec, this.endpointSpec(endpoint)));
    if (info.interface && 'inSandbox' in info.interface && !driver.capability.createsInSandbox) {
      throw new DriverContractError(`driver ${driver.type} says it made the interface in the sandbox, which its capabilities say it cannot: it must hand one over by name`);
    }
    // An endpoint without an interface (null, host, a plugin giving none) holds no name.
    endpoint.ifname = info.interface ? candidate : '';
    crashPoint('connect:joined');
    let link: LinkRef | undefined;
    delete endpoint.handedOver;
    if (info.interface && 'srcName' in info.interface) {
      const { srcName } = info.interface;
      endpoint.ifname = keepOr(info.interface.dstPrefix);
      // Pushed first: a move that succeeds and a MAC change that fails still leave it in the sandbox.
      rollback.push(`giving interface ${endpoint.ifname} back as ${srcName}`, () => sandbox.returnInterface(endpoint.ifname, this.hostNamespace(), srcName));
      link = await sandbox.adoptInterface(this.deps.netlink, srcName, endpoint.ifname, endpoint.mac, this.deps.ownership.linkGroup);
      endpoint.handedOver = srcName;
    } else if (info.interface) {
      link = info.interface.index ?? endpoint.ifname;
    }
    if (info.mac !== undefined) {
      if (macRequested) throw new InvalidParameterError(`network ${network.name} (driver ${network.driver}) gives its interface the MAC address ${info.mac}, not the one asked for (${endpoint.mac}): connect without a MAC address`);
      endpoint.mac = info.mac;
    }
    delete endpoint.gateway4;
    delete endpoint.gateway6;
    delete endpoint.noGatewayService;
    if (info.gateway4) endpoint.gateway4 = info.gateway4;
    if (info.gateway6) endpoint.gateway6 = info.gateway6;
    if (info.disableGatewayService) endpoint.noGatewayService = true;
    if (link !== undefined) {
      const addresses = [endpoint.ipv4?.address, endpoint.ipv6?.address].filter((a): a is string => a !== undefined);
      const all = [...others, endpoint].sort(byConnectOrder);
      await sandbox.configureInterface(link, addresses, defaultRouteChanges(others, all), info.staticRoutes ?? []);
    }
    if (info.tableEntries?.length && this.deps.tables) {
      await this.deps.tables.publish(network.id, info.tableEntries);
      endpoint.tableEntries = storedEntries(info.tableEntries);
      rollback.push('withdrawing the table entries', () => this.deps.tables!.withdraw(network.id, info.tableEntries!));
    }
  }

  /**
   * Revoke, leave, withdraw, delete, forget; then the default route moves on if this endpoint
   * carried it. On a network that could not be brought back the driver may fail: the endpoint
   * goes anyway (what it leaves in the kernel is in netctl's link group, for the next start to
   * remove).
   */
  private async detach(endpoint: EndpointRecord, sandbox: Sandbox | undefined, sandboxGoing = false): Promise<void> {
    const network = this.networkOf(endpoint);
    const tolerate = (what: string) => (error: unknown): void => {
      const failed = this.deps.failure(network.id) !== undefined;
      if (!failed && !sandboxGoing) throw error;
      this.deps.log.warn({ err: error, endpoint: endpoint.id, network: network.id }, `the driver could not ${what} an endpoint ${failed ? 'of a failed network' : 'of a sandbox being removed'}`);
    };
    await this.release(endpoint, sandbox, tolerate);
    const before = this.ofSandbox(endpoint.sandboxId);
    await this.forget(endpoint);
    if (sandbox) await sandbox.setGateways(defaultRouteChanges(before, this.ofSandbox(endpoint.sandboxId)));
    this.deps.log.info({ endpoint: endpoint.id, network: network.id, sandbox: endpoint.sandboxId }, 'endpoint disconnected');
    this.deps.endpointChanged?.('disconnect', endpoint);
  }

  /**
   * Endpoints whose sandbox was gone at load: their drivers revoke, leave and delete them and
   * their table entries are withdrawn, as for a disconnect (what is gone with the namespace is
   * no error); then the records go, the sandboxes' last.
   */
  async dropStranded(): Promise<void> {
    for (const endpoint of this.stranded.splice(0)) {
      await this.release(endpoint, undefined, (what) => (error: unknown) => this.deps.log.warn({ err: error, endpoint: endpoint.id }, `could not ${what} an endpoint whose sandbox is gone`));
      await this.forget(endpoint);
    }
    for (const id of this.goneSandboxes.splice(0)) await this.sandboxes.dropRecord(id);
  }

  /** The driver's and the tables' part of a disconnect: revoke, give back, leave, withdraw, delete. */
  private async release(endpoint: EndpointRecord, sandbox: Sandbox | undefined, tolerate: (what: string) => (error: unknown) => void): Promise<void> {
    const network = this.networkOf(endpoint);
    const spec = specOf(network);
    const driver = (): Driver => this.deps.driverOf(network);
    if (endpoint.ports) await Promise.resolve().then(() => driver().revokeExternalConnectivity(spec, this.endpointSpec(endpoint))).catch(tolerate('withdraw the ports of'));
    const handedOver = endpoint.handedOver;
    // A stranded endpoint's namespace is gone, and what was handed over with it.
    if (handedOver && this.sandboxes.has(endpoint.sandboxId)) {
      await Promise.resolve()
        .then(() => (sandbox ?? this.sandboxes.opening(endpoint.sandboxId)).returnInterface(endpoint.ifname, this.hostNamespace(), handedOver))
        .catch((error: unknown) => this.deps.log.warn({ err: error, endpoint: endpoint.id }, 'could not give the interface back to its driver'));
    }
    await Promise.resolve().then(() => driver().leave(spec, this.endpointSpec(endpoint))).catch(tolerate('take away the interface of'));
    crashPoint('disconnect:left');
    if (endpoint.tableEntries?.length) await this.deps.tables?.withdraw(network.id, tableEntries(endpoint.tableEntries));
    await Promise.resolve().then(() => driver().deleteEndpoint(spec, this.endpointSpec(endpoint))).catch(tolerate('delete'));
  }

  /**
   * Removes the endpoint's record, then releases its addresses: in this order a crash between the
   * two leaves an address of no endpoint, which the next start releases, never an endpoint
   * holding an address the IPAM could hand out again.
   */
  private async forget(endpoint: EndpointRecord): Promise<void> {
    this.deps.dns?.unregister(endpoint.id);
    await this.deps.store.delete(ENDPOINT_PREFIX + endpoint.id);
    this.endpoints.untrack(endpoint);
    crashPoint('disconnect:record-deleted');
    await this.deps.presence?.left(endpoint.networkId, endpoint.id);
    const network = this.deps.networkById(endpoint.networkId);
    const ipam = network && this.deps.ipamOf(network);
    for (const held of [endpoint.ipv4, endpoint.ipv6]) {
      if (!held || !ipam || held.poolId === '') continue;
      const release = (): Promise<void> => ipam.releaseAddress(held.poolId, held.address);
      await release().catch((error: unknown) => {
        // A global pool's address while etcd is away: given back once it answers, not leaked.
        if (error instanceof StoreUnavailableError && this.deps.presence?.later) return this.deps.presence.later(release);
        this.deps.log.warn({ err: error, endpoint: endpoint.id, address: held.address }, 'could not release an endpoint address');
      });
    }
  }

  /** Where interfaces handed over came from: the namespace of the controller's netlink handle. */
  private hostNamespace(): string {
    return this.deps.netlink.netns ?? '/proc/self/ns/net';
  }
}
