// Sandboxes and the endpoints that attach them to networks. Connecting is one transaction:
// addresses from the network's pools, the driver's join (the interface appears in the sandbox),
// addresses and up inside, the default route, the store; a failure undoes every step. Work on
// one sandbox is serialised (interface names and the default route depend on its other endpoints).
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../util/logger';
import type { Driver, EndpointSpec, JoinInfo, PortMapping } from '../drivers/driver';
import { type Ipam, LOCAL_SPACE } from '../ipam';
import { addressOf, InvalidAddressError, ipToBigInt, parsePrefix, prefixContains } from '../ip/address';
import { type Family, Sandbox } from '../sandbox';
import type { Store } from '../store/types';
import { crashPoint } from '../util/crash-point';
import { Rollback } from '../util/rollback';
import { SerialQueue } from '../util/serial';
import { type EndpointAddress, type EndpointRecord, endpointSpecOf, type SandboxRecord } from './endpoint-record';
import type { DnsRegistry } from './dns-registry';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from './errors';
import { adoptionError, type ExternalKey, type HeldKey, holdExternalKey, stillNames } from './external-key';
import { type NetworkRecord, type PoolAllocation, specOf } from './network-record';
import { newId } from '../util/id';
import { invalidNameMessage, nameProblem } from '../util/names';

const SANDBOX_PREFIX = 'sandboxes/';
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
  ipam: Ipam;
  log: Logger;
  /** Where sandbox namespaces are made. */
  sandboxDir: string;
  network(reference: string): NetworkRecord;
  /** A network by ID; undefined once its removal has begun. */
  networkById(id: string): NetworkRecord | undefined;
  driverOf(network: NetworkRecord): Driver;
  /** Why a network could not be brought back at start, if it could not: it takes no endpoints. */
  failure(networkId: string): string | undefined;
  /** The embedded DNS, when the daemon runs one. */
  dns?: DnsRegistry;
}

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** Docker's bridge MACs: 02:42 and the IPv4 address, so a reused address keeps its MAC in neighbours' caches. */
function macFor(ipv4: string | undefined): string {
  const bytes = ipv4 ? addressOf(ipv4).split('.').map(Number) : [...crypto.randomBytes(4)];
  return ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * In a namespace netctl made, lo is 1 and the interfaces it adds are eth0, eth1...: ethN most
 * likely finds index N + 2 free (the kernel would pick the same for the first one).
 */
function preferredIndex(ifname: string): number | undefined {
  const n = /^eth(\d{1,4})$/.exec(ifname)?.[1];
  return n === undefined ? undefined : Number(n) + 2;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byConnectOrder = (a: EndpointRecord, b: EndpointRecord): number => compare(a.created, b.created) || compare(a.id, b.id);

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export class Attachments {
  private readonly sandboxes = new Map<string, SandboxRecord>();
  /** Sandboxes worked on since the start, each keeping its netlink socket. */
  private readonly opened = new Map<string, Sandbox>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  /**
   * The same endpoints by sandbox: every DNS query asks for its sandbox's endpoints, and a scan of
   * all of them would make each query cost more the more containers the host runs.
   */
  private readonly bySandbox = new Map<string, Set<EndpointRecord>>();
  private readonly queues = new Map<string, SerialQueue>();
  /** External keys given as descriptors, held while their sandbox lives in this controller. */
  private readonly heldKeys = new Map<string, HeldKey>();

  constructor(private readonly deps: AttachmentDeps) {}

  /**
   * Loads what the store holds and repairs what a crash may have left between steps: namespaces
   * of no sandbox and interfaces of no endpoint are removed; sandboxes whose namespace is gone (a
   * reboot, an external key's process that ended) are dropped with their endpoints.
   */
  async load(): Promise<void> {
    const { store, log } = this.deps;
    for (const entry of await store.list(SANDBOX_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as SandboxRecord;
      this.sandboxes.set(record.id, record);
    }
    for (const entry of await store.list(ENDPOINT_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as EndpointRecord;
      this.track(record);
    }
    this.removeOrphanNamespaces();
    for (const sandbox of [...this.sandboxes.values()]) {
      if (sandbox.external ? stillNames(sandbox.key, sandbox.namespaceInode) : Sandbox.open(sandbox.key).exists()) continue;
      log.warn({ sandbox: sandbox.id, key: sandbox.key }, 'sandbox namespace gone: dropping the sandbox and its endpoints');
      for (const endpoint of this.ofSandbox(sandbox.id)) await this.forget(endpoint);
      await store.delete(SANDBOX_PREFIX + sandbox.id);
      this.sandboxes.delete(sandbox.id);
    }
    for (const endpoint of [...this.endpoints.values()]) {
      if (this.sandboxes.has(endpoint.sandboxId) && this.deps.networkById(endpoint.networkId)) continue;
      log.warn({ endpoint: endpoint.id }, 'endpoint of no sandbox or network: dropping it');
      await this.forget(endpoint);
    }
    await this.removeStrayInterfaces();
    for (const endpoint of this.endpoints.values()) this.deps.dns?.register(endpoint, this.deps.networkById(endpoint.networkId)!);
    for (const sandbox of this.sandboxes.values()) this.openDns(sandbox);
  }

  /** Namespaces in the sandbox directory that no sandbox owns: a crash came between making one and recording it. */
  private removeOrphanNamespaces(): void {
    const owned = new Set([...this.sandboxes.values()].map((s) => s.key));
    let names: string[];
    try {
      names = fs.readdirSync(this.deps.sandboxDir);
    } catch {
      return; // no sandbox was ever made here
    }
    for (const key of names.map((name) => path.join(this.deps.sandboxDir, name)).filter((key) => !owned.has(key))) {
      this.deps.log.warn({ key }, 'network namespace of no sandbox (left by a crash): removing it');
      try {
        Sandbox.open(key).destroy();
      } catch (error) {
        this.deps.log.error({ err: error, key }, 'could not remove the namespace');
      }
    }
  }

  /** Interfaces netctl put in a sandbox for an endpoint it never recorded (a crash between the two). */
  private async removeStrayInterfaces(): Promise<void> {
    for (const id of this.sandboxes.keys()) {
      const sandbox = this.opening(id);
      try {
        const removed = await sandbox.removeStrayInterfaces(new Set(this.ofSandbox(id).map((e) => e.ifname)));
        if (removed.length > 0) this.deps.log.warn({ sandbox: id, interfaces: removed }, 'interfaces of no endpoint (left by a crash): removed them');
      } catch (error) {
        this.deps.log.error({ err: error, sandbox: id }, 'could not check the sandbox for interfaces of no endpoint');
      } finally {
        // A sandbox is opened again when it is worked on; holding every one from the start would not scale.
        sandbox.close();
        this.opened.delete(id);
      }
    }
  }

  /**
   * Makes the IPAM agree with the endpoints in the local address space: an address no endpoint
   * holds is released (a crash between allocating it and recording the endpoint), and one an
   * endpoint holds but the IPAM does not is taken again, so it is never handed out twice.
   */
  async reconcileAddresses(networks: readonly NetworkRecord[]): Promise<void> {
    const held = new Map<string, Set<string>>();
    for (const endpoint of this.endpoints.values()) {
      for (const address of [endpoint.ipv4, endpoint.ipv6]) {
        if (!address) continue;
        if (!held.has(address.poolId)) held.set(address.poolId, new Set());
        held.get(address.poolId)!.add(addressOf(address.address));
      }
    }
    const pools = new Set(networks.flatMap((n) => n.allocations.filter((a) => a.addressSpace === LOCAL_SPACE).map((a) => a.poolId)));
    const { ipam, log } = this.deps;
    for (const poolId of pools) {
      const wanted = held.get(poolId) ?? new Set<string>();
      const allocated = new Set(await ipam.endpointAddresses(poolId));
      for (const address of allocated) {
        if (wanted.has(address)) continue;
        log.warn({ pool: poolId, address }, 'address of no endpoint (left by a crash): releasing it');
        await ipam.releaseAddress(poolId, address);
      }
      for (const address of wanted) {
        if (allocated.has(address)) continue;
        log.warn({ pool: poolId, address }, 'endpoint address the IPAM had released (left by a crash): taking it again');
        await ipam.requestAddress(poolId, address).catch((error: unknown) => log.error({ err: error, pool: poolId, address }, 'could not take the address again'));
      }
    }
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
      const sandbox = this.opening(endpoint.sandboxId);
      await this.serially(endpoint.sandboxId, async () => {
        const rollback = new Rollback();
        try {
          await this.plumb(endpoint, sandbox, rollback);
          await this.deps.store.put(ENDPOINT_PREFIX + endpoint.id, encode(endpoint));
        } catch (error) {
          for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, endpoint: id }, `rollback: ${failure.what} failed`);
          this.deps.log.error({ err: error, endpoint: id, sandbox: endpoint.sandboxId }, `endpoint could not join again (${(error as Error).message}): its container has no interface on that network until it is disconnected and connected again`);
        }
      });
    }
  }

  /** Lets go of the sandboxes' netlink sockets and held keys (the sandboxes stay). */
  close(): void {
    for (const sandbox of this.opened.values()) sandbox.close();
    this.opened.clear();
    for (const held of this.heldKeys.values()) held.release();
    this.heldKeys.clear();
  }

  /** The sandbox to work on, its socket kept for the next time. */
  private opening(id: string): Sandbox {
    let sandbox = this.opened.get(id);
    if (!sandbox) this.opened.set(id, (sandbox = Sandbox.open(this.sandbox(id).key)));
    return sandbox;
  }

  sandboxList(): SandboxRecord[] {
    return [...this.sandboxes.values()];
  }

  sandbox(id: string): SandboxRecord {
    const record = this.sandboxes.get(id);
    if (!record) throw new NotFoundError(`sandbox ${id} not found`);
    return record;
  }

  /** The driver's view of an endpoint. */
  endpointSpec(endpoint: EndpointRecord): EndpointSpec {
    return endpointSpecOf(endpoint, this.sandboxes.get(endpoint.sandboxId)?.key);
  }

  /** Endpoints of a network, including those being connected right now. */
  ofNetwork(networkId: string): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => e.networkId === networkId);
  }

  /** Endpoints of a sandbox in the order they were connected. */
  ofSandbox(sandboxId: string): EndpointRecord[] {
    return [...(this.bySandbox.get(sandboxId) ?? [])].sort(byConnectOrder);
  }

  private track(endpoint: EndpointRecord): void {
    this.endpoints.set(endpoint.id, endpoint);
    let members = this.bySandbox.get(endpoint.sandboxId);
    if (!members) this.bySandbox.set(endpoint.sandboxId, (members = new Set()));
    members.add(endpoint);
  }

  private untrack(endpoint: EndpointRecord): void {
    this.endpoints.delete(endpoint.id);
    const members = this.bySandbox.get(endpoint.sandboxId);
    members?.delete(endpoint);
    if (members?.size === 0) this.bySandbox.delete(endpoint.sandboxId);
  }

  async createSandbox(options: SandboxOptions = {}): Promise<SandboxRecord> {
    const bad = (options.dns ?? []).find((ip) => net.isIP(ip) === 0);
    if (bad !== undefined) throw new InvalidParameterError(`invalid DNS server "${bad}": give an IP address`);
    const id = newId();
    const external = options.key === undefined ? undefined : await this.adopt(options.key);
    const sandbox = external?.sandbox ?? (await Sandbox.create(this.deps.sandboxDir, id.slice(0, 12)));
    crashPoint('sandbox-create:namespace-made');
    this.opened.set(id, sandbox);
    if (external) this.heldKeys.set(id, external.held);
    const record: SandboxRecord = {
      id,
      key: sandbox.key,
      ...(external ? { external: true, namespaceInode: external.held.inode } : {}),
      ...(options.containerId ? { containerId: options.containerId } : {}),
      ...(options.owner ? { owner: options.owner } : {}),
      ...(options.dns && options.dns.length > 0 ? { dns: [...options.dns] } : {}),
      created: new Date().toISOString(),
    };
    try {
      await this.deps.store.put(SANDBOX_PREFIX + id, encode(record), 0);
    } catch (error) {
      this.letGo(record);
      throw error;
    }
    this.sandboxes.set(id, record);
    this.openDns(record);
    return record;
  }

  /** An external key checked, held and its namespace adopted; one per sandbox. */
  private async adopt(key: ExternalKey): Promise<{ held: HeldKey; sandbox: Sandbox }> {
    const held = holdExternalKey(key, this.deps.sandboxDir);
    try {
      const owner = [...this.sandboxes.values()].find((s) => stillNames(s.key, held.inode));
      if (owner) throw new ConflictError(`the network namespace of sandbox key ${String(key)} is sandbox ${owner.id.slice(0, 12)}'s already`);
      return { held, sandbox: await Sandbox.adopt(held.path).catch((error: unknown) => Promise.reject(adoptionError(key, error))) };
    } catch (error) {
      held.release();
      throw error;
    }
  }

  /** Removes the namespace netctl made; an external one is only let go of (its owner removes it). */
  private letGo(record: SandboxRecord): void {
    if (record.external) {
      this.opened.get(record.id)?.close();
      this.heldKeys.get(record.id)?.release();
      this.heldKeys.delete(record.id);
    } else {
      this.opening(record.id).destroy();
    }
    this.opened.delete(record.id);
  }

  /** Disconnects every endpoint, then removes the namespace (one netctl made). */
  async deleteSandbox(id: string): Promise<void> {
    const record = this.sandbox(id);
    await this.serially(id, async () => {
      for (const endpoint of this.ofSandbox(id).reverse()) await this.detach(endpoint, undefined);
      crashPoint('sandbox-delete:endpoints-gone');
      this.deps.dns?.close(record.key);
      this.letGo(record);
      crashPoint('sandbox-delete:namespace-gone');
      await this.deps.store.delete(SANDBOX_PREFIX + id);
      this.sandboxes.delete(id);
    });
    this.queues.delete(id);
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
    return this.serially(sandboxId, async () => {
      if (!this.deps.networkById(network.id)) throw new NotFoundError(`network ${networkReference} not found`);
      if (this.ofSandbox(sandboxId).some((e) => e.networkId === network.id)) throw new ForbiddenError(`endpoint with name ${name} already exists in network ${network.name}`);
      const endpoint: EndpointRecord = {
        id: newId(),
        name,
        ...(request.hostname ? { hostname: request.hostname } : {}),
        networkId: network.id,
        sandboxId,
        ifname: this.nextIfname(sandboxId),
        mac: '',
        aliases: [...(request.aliases ?? [])],
        created: new Date().toISOString(),
      };
      // Listed before any await: a network removal from now on sees the endpoint and refuses.
      this.track(endpoint);
      const rollback = new Rollback();
      rollback.push('forgetting the endpoint', () => this.untrack(endpoint));
      try {
        if (this.deps.driverOf(network).usesIpam) {
          const ipv4 = await this.allocate(network, false, request.ipv4, rollback);
          const ipv6 = network.enableIPv6 ? await this.allocate(network, true, request.ipv6, rollback) : undefined;
          if (ipv4) endpoint.ipv4 = ipv4;
          if (ipv6) endpoint.ipv6 = ipv6;
        }
        crashPoint('connect:addresses-allocated');
        endpoint.mac = request.mac?.toLowerCase() ?? macFor(endpoint.ipv4?.address);
        const sandbox = this.opening(sandboxId);
        await this.plumb(endpoint, sandbox, rollback, request.mac !== undefined);
        crashPoint('connect:configured');
        await this.deps.store.put(ENDPOINT_PREFIX + endpoint.id, encode(endpoint), 0);
        this.deps.dns?.register(endpoint, network);
        this.deps.log.info({ endpoint: endpoint.id, network: network.id, sandbox: sandboxId, ifname: endpoint.ifname }, 'endpoint connected');
        return endpoint;
      } catch (error) {
        for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, endpoint: endpoint.id }, `rollback: ${failure.what} failed`);
        throw error;
      }
    });
  }

  async disconnect(networkReference: string, sandboxId: string): Promise<void> {
    const network = this.deps.network(networkReference);
    this.sandbox(sandboxId);
    await this.serially(sandboxId, async () => {
      const endpoint = this.ofSandbox(sandboxId).find((e) => e.networkId === network.id);
      if (!endpoint) throw new ForbiddenError(`sandbox ${sandboxId.slice(0, 12)} is not connected to network ${network.name}`);
      await this.detach(endpoint, this.opening(sandboxId));
    });
  }

  /**
   * Publishes ports of the sandbox through the endpoint that carries its IPv4 default route (the
   * first-connected one otherwise); an empty list withdraws what was published. Resolves with
   * the ports as published.
   */
  async publish(sandboxId: string, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    this.sandbox(sandboxId);
    return this.serially(sandboxId, async () => {
      const endpoints = this.ofSandbox(sandboxId);
      for (const endpoint of endpoints.filter((e) => (e.ports ?? []).length > 0)) await this.program(endpoint, []);
      if (ports.length === 0) return [];
      const carrier = endpoints.find((e) => e.gateway4 !== undefined) ?? endpoints[0];
      if (!carrier) throw new InvalidParameterError('publishing ports needs a network: the container is connected to none');
      return this.program(carrier, ports);
    });
  }

  private async program(endpoint: EndpointRecord, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    const network = this.deps.networkById(endpoint.networkId)!;
    const resolved = await this.deps.driverOf(network).programExternalConnectivity(specOf(network), { ...this.endpointSpec(endpoint), ports: [...ports] });
    crashPoint('publish:rules-applied');
    if (resolved.length > 0) endpoint.ports = resolved;
    else delete endpoint.ports;
    await this.deps.store.put(ENDPOINT_PREFIX + endpoint.id, encode(endpoint));
    return resolved;
  }

  /**
   * The driver's join and the layer 3 inside the sandbox: addresses, up, and the default routes
   * the endpoint now carries (see gatewayChanges), on one socket.
   */
  private async plumb(endpoint: EndpointRecord, sandbox: Sandbox, rollback: Rollback, macRequested = false): Promise<void> {
    const network = this.deps.networkById(endpoint.networkId)!;
    const driver = this.deps.driverOf(network);
    const info: JoinInfo = await driver.join(specOf(network), this.endpointSpec(endpoint), { sandboxKey: sandbox.key, sandboxFd: sandbox.descriptor(), ifname: endpoint.ifname, preferredIndex: preferredIndex(endpoint.ifname) });
    rollback.push(`leaving network ${network.name}`, () => driver.leave(specOf(network), this.endpointSpec(endpoint)));
    crashPoint('connect:joined');
    if (info.mac !== undefined) {
      if (macRequested) throw new InvalidParameterError(`network ${network.name} (driver ${network.driver}) gives its interface the MAC address ${info.mac}, not the one asked for (${endpoint.mac}): connect without a MAC address`);
      endpoint.mac = info.mac;
    }
    delete endpoint.gateway4;
    delete endpoint.gateway6;
    if (info.gateway4) endpoint.gateway4 = info.gateway4;
    if (info.gateway6) endpoint.gateway6 = info.gateway6;
    const addresses = [endpoint.ipv4?.address, endpoint.ipv6?.address].filter((a): a is string => a !== undefined);
    await sandbox.configureInterface(info.interfaceIndex ?? endpoint.ifname, addresses, this.gatewayChanges(endpoint, 'joined'));
  }

  /**
   * The default route of each family goes via the first-connected endpoint that offers a
   * gateway. Returns the routes to set because `changed` has just become that endpoint, or
   * because it was that endpoint and has left (the kernel took its route away with its interface).
   */
  private gatewayChanges(changed: EndpointRecord, how: 'joined' | 'left'): Partial<Record<Family, string>> {
    const remaining = this.ofSandbox(changed.sandboxId);
    const before = how === 'joined' ? remaining.filter((e) => e !== changed) : [...remaining, changed].sort(byConnectOrder);
    const changes: Partial<Record<Family, string>> = {};
    for (const family of ['ipv4', 'ipv6'] as const) {
      const gatewayOf = (e: EndpointRecord): string | undefined => (family === 'ipv4' ? e.gateway4 : e.gateway6);
      const carrierBefore = before.find((e) => gatewayOf(e) !== undefined);
      const carrier = remaining.find((e) => gatewayOf(e) !== undefined);
      if (carrier && carrier !== carrierBefore) changes[family] = gatewayOf(carrier)!;
    }
    return changes;
  }

  /**
   * Leave, forget; then the default route moves on if this endpoint carried it. On a network that
   * could not be brought back the driver may fail to leave: the endpoint goes anyway (what it
   * leaves in the kernel is in netctl's link group, for the next start to remove).
   */
  private async detach(endpoint: EndpointRecord, sandbox: Sandbox | undefined): Promise<void> {
    const network = this.deps.networkById(endpoint.networkId)!;
    try {
      await this.deps.driverOf(network).leave(specOf(network), this.endpointSpec(endpoint));
    } catch (error) {
      if (this.deps.failure(network.id) === undefined) throw error;
      this.deps.log.warn({ err: error, endpoint: endpoint.id, network: network.id }, 'the driver could not take the interface of an endpoint of a failed network away');
    }
    crashPoint('disconnect:left');
    await this.forget(endpoint);
    if (sandbox) await sandbox.setGateways(this.gatewayChanges(endpoint, 'left'));
    this.deps.log.info({ endpoint: endpoint.id, network: network.id, sandbox: endpoint.sandboxId }, 'endpoint disconnected');
  }

  /**
   * Removes the endpoint's record, then releases its addresses: in this order a crash between the
   * two leaves an address of no endpoint, which the next start releases, never an endpoint
   * holding an address the IPAM could hand out again.
   */
  private async forget(endpoint: EndpointRecord): Promise<void> {
    this.deps.dns?.unregister(endpoint.id);
    await this.deps.store.delete(ENDPOINT_PREFIX + endpoint.id);
    this.untrack(endpoint);
    crashPoint('disconnect:record-deleted');
    for (const held of [endpoint.ipv4, endpoint.ipv6]) {
      if (!held) continue;
      await this.deps.ipam.releaseAddress(held.poolId, held.address).catch((error: unknown) => {
        this.deps.log.warn({ err: error, endpoint: endpoint.id, address: held.address }, 'could not release an endpoint address');
      });
    }
  }

  /** An address of one family: the given one from the pool that holds it, else the next free one of the first pool with room. */
  private async allocate(network: NetworkRecord, v6: boolean, ip: string | undefined, rollback: Rollback): Promise<EndpointAddress | undefined> {
    const pools = network.allocations.filter((a) => a.v6 === v6);
    if (pools.length === 0) return undefined;
    const candidates = ip === undefined ? pools : pools.filter((a) => contains(a, ip));
    if (candidates.length === 0) throw new InvalidParameterError(`invalid address ${ip}: it does not belong to any of network ${network.name}'s subnets (${pools.map((a) => a.pool).join(', ')})`);
    let lastError: unknown;
    for (const pool of candidates) {
      try {
        const address = await this.deps.ipam.requestAddress(pool.poolId, ip);
        rollback.push(`releasing address ${address}`, () => this.deps.ipam.releaseAddress(pool.poolId, address));
        return { poolId: pool.poolId, address };
      } catch (error) {
        lastError = error;
        if (ip !== undefined) break;
      }
    }
    throw lastError;
  }

  /** eth0, eth1...: the lowest index no endpoint of the sandbox uses. */
  private nextIfname(sandboxId: string): string {
    const used = new Set(this.ofSandbox(sandboxId).map((e) => e.ifname));
    let index = 0;
    while (used.has(`eth${index}`)) index++;
    return `eth${index}`;
  }

  private serially<T>(sandboxId: string, work: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(sandboxId);
    if (!queue) this.queues.set(sandboxId, (queue = new SerialQueue()));
    return queue.run(work);
  }
}

function contains(allocation: PoolAllocation, ip: string): boolean {
  try {
    const { version, value } = ipToBigInt(ip);
    return prefixContains(parsePrefix(allocation.pool), version, value);
  } catch (error) {
    if (error instanceof InvalidAddressError) return false;
    throw error;
  }
}
