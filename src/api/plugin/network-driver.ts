// Docker's NetworkDriver calls onto netctl's driver contract: a Docker network is a network of a
// built-in netctl driver (`-o netctl.driver=bridge|macvlan`, bridge by default) with the pools
// Docker's IPAM gave; an endpoint's interface is made in this host's namespace under a name Docker
// then moves into the container and renames (SrcName, DstPrefix). Networks and endpoints are kept
// in the store, so a restart brings them back and Docker's retries get the same answers.
import net from 'node:net';
import type { Driver, EndpointSpec, IpamData, JoinInfo, NetworkSpec, PortMapping } from '../../drivers/driver';
import { macFor, MAC } from '../../controller/mac';
import type { Store } from '../../store/types';
import type { Logger } from '../../util/logger';
import { SerialQueue } from '../../util/serial';
import type { PluginCall } from './server';
import { dockerId, type Fields, objectBody, optionalArray, optionalObject, optionalString, PluginInputError, requiredString, stringMap } from './fields';

const NETWORK_PREFIX = 'docker-plugin/networks/';
const ENDPOINT_PREFIX = 'docker-plugin/endpoints/';
/** The `-o` option that picks the netctl driver behind a Docker network. */
const BACKING_DRIVER_OPTION = 'netctl.driver';
const GENERIC_OPTIONS = 'com.docker.network.generic';
const PORT_MAP_OPTION = 'com.docker.network.portmap';

/** A Docker network: the netctl driver behind it and the network as that driver has it. */
export interface PluginNetworkRecord {
  driver: string;
  spec: NetworkSpec;
}

export interface PluginEndpointRecord {
  spec: EndpointSpec;
  /** What CreateEndpoint answered, answered again to a retry. */
  created: Fields;
  /** What Join answered, while the endpoint is joined. */
  joined?: Fields;
  /** The host-side interface Join made for Docker to move; kept after the Leave, as Docker gives it back. */
  srcName?: string;
}

/** A call about a network or endpoint this server does not have, or a state it refuses. */
export class PluginStateError extends Error {
  override readonly name = 'PluginStateError';
}

export interface NetworkDriverDeps {
  store: Store;
  /** The netctl drivers a Docker network may use, by type. */
  drivers: ReadonlyMap<string, Driver>;
  log: Logger;
  /** This process's network namespace, where Docker picks up the interfaces (Docker's own). */
  hostNamespace: string;
}

/** The interface Join hands Docker: unique per endpoint, at most 15 characters. */
const srcNameOf = (endpointId: string): string => `nctl${endpointId.slice(0, 11)}`;

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export class PluginNetworkDriver {
  private readonly networks = new Map<string, PluginNetworkRecord>();
  private readonly endpoints = new Map<string, PluginEndpointRecord>();
  /** Docker's calls change shared state (records, a network's endpoints): one at a time. */
  private readonly queue = new SerialQueue();

  constructor(private readonly deps: NetworkDriverDeps) {}

  /** Loads the records and has each driver make the kernel match them (and remove what no record owns). */
  async restore(): Promise<void> {
    const { store, log } = this.deps;
    for (const entry of await store.list(NETWORK_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as PluginNetworkRecord;
      this.networks.set(record.spec.id, record);
    }
    for (const entry of await store.list(ENDPOINT_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as PluginEndpointRecord;
      if (this.networks.has(record.spec.networkId)) this.endpoints.set(record.spec.id, record);
      else await store.delete(entry.key);
    }
    for (const [type, driver] of this.deps.drivers) {
      const networks = [...this.networks.values()].filter((n) => n.driver === type).map((n) => n.spec);
      const endpoints = [...this.endpoints.values()].filter((e) => networks.some((n) => n.id === e.spec.networkId)).map((e) => this.endpointSpec(e));
      const { rejoin, failed } = await driver.restore(networks, endpoints, () => ({ registerTable: () => undefined }));
      for (const { networkId, error } of failed) log.error({ err: error, network: networkId }, `Docker network ${networkId.slice(0, 12)} could not be brought back`);
      // Docker moved the interface into its container: one that is gone went with its container.
      for (const id of rejoin) log.warn({ endpoint: id }, 'the interface of a Docker endpoint is gone (its container ended); it goes at its Leave');
    }
  }

  readonly calls: Record<string, PluginCall> = {
    GetCapabilities: async () => ({ Scope: 'local', ConnectivityScope: 'local' }),
    CreateNetwork: (body) => this.serially(() => this.createNetwork(objectBody('CreateNetwork', body))),
    DeleteNetwork: (body) => this.serially(() => this.deleteNetwork(objectBody('DeleteNetwork', body))),
    // Swarm's calls on a manager: a local-scope driver has nothing to allocate cluster-wide.
    AllocateNetwork: async (body) => (dockerId('AllocateNetwork', objectBody('AllocateNetwork', body), 'NetworkID'), { Options: {} }),
    FreeNetwork: async (body) => (dockerId('FreeNetwork', objectBody('FreeNetwork', body), 'NetworkID'), {}),
    CreateEndpoint: (body) => this.serially(() => this.createEndpoint(objectBody('CreateEndpoint', body))),
    EndpointOperInfo: async (body) => this.endpointOperInfo(objectBody('EndpointOperInfo', body)),
    DeleteEndpoint: (body) => this.serially(() => this.deleteEndpoint(objectBody('DeleteEndpoint', body))),
    Join: (body) => this.serially(() => this.join(objectBody('Join', body))),
    Leave: (body) => this.serially(() => this.leave(objectBody('Leave', body))),
    ProgramExternalConnectivity: (body) => this.serially(() => this.programExternalConnectivity(objectBody('ProgramExternalConnectivity', body))),
    RevokeExternalConnectivity: (body) => this.serially(() => this.revokeExternalConnectivity(objectBody('RevokeExternalConnectivity', body))),
    DiscoverNew: async (body) => this.discovery('DiscoverNew', objectBody('DiscoverNew', body)),
    DiscoverDelete: async (body) => this.discovery('DiscoverDelete', objectBody('DiscoverDelete', body)),
  };

  private serially<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.run(work);
  }

  private async createNetwork(body: Fields): Promise<Fields> {
    const call = 'CreateNetwork';
    const id = dockerId(call, body, 'NetworkID');
    const options = optionalObject(call, body, 'Options');
    const generic = stringMap(call, options, GENERIC_OPTIONS);
    const { [BACKING_DRIVER_OPTION]: type = 'bridge', ...driverOptions } = generic;
    const driver = this.deps.drivers.get(type);
    if (!driver) throw new PluginInputError(`${call}: unknown ${BACKING_DRIVER_OPTION} "${type}": use one of ${[...this.deps.drivers.keys()].join(', ')}`);
    const spec: NetworkSpec = {
      id,
      name: `docker-${id.slice(0, 12)}`,
      options: driverOptions,
      internal: flag(call, options, 'com.docker.network.internal'),
      enableIPv6: flag(call, options, 'com.docker.network.enable_ipv6'),
      ipv4: ipamData(call, body, 'IPv4Data', 4),
      ipv6: ipamData(call, body, 'IPv6Data', 6),
    };
    const existing = this.networks.get(id);
    if (existing) {
      // Docker's retry of the same create succeeds; another network under the same ID does not.
      if (JSON.stringify(existing) === JSON.stringify({ driver: type, spec })) return {};
      throw new PluginStateError(`${call}: network ${id.slice(0, 12)} already exists with other settings; delete it first`);
    }
    await driver.validateOptions(spec.options);
    await driver.createNetwork(spec, { registerTable: () => undefined });
    const record: PluginNetworkRecord = { driver: type, spec };
    try {
      await this.deps.store.put(NETWORK_PREFIX + id, encode(record));
    } catch (error) {
      await driver.deleteNetwork(spec).catch((undo: unknown) => this.deps.log.error({ err: undo, network: id }, 'rollback: could not delete the network again'));
      throw error;
    }
    this.networks.set(id, record);
    this.deps.log.info({ network: id, driver: type }, 'Docker network created');
    return {};
  }

  private async deleteNetwork(body: Fields): Promise<Fields> {
    const id = dockerId('DeleteNetwork', body, 'NetworkID');
    const record = this.networks.get(id);
    if (!record) return {}; // gone already: Docker's retry
    const left = [...this.endpoints.values()].filter((e) => e.spec.networkId === id).length;
    if (left > 0) throw new PluginStateError(`DeleteNetwork: network ${id.slice(0, 12)} still has ${left} endpoint(s); delete them first`);
    await this.driverOf(record).deleteNetwork(record.spec);
    await this.deps.store.delete(NETWORK_PREFIX + id);
    this.networks.delete(id);
    this.deps.log.info({ network: id }, 'Docker network removed');
    return {};
  }

  private async createEndpoint(body: Fields): Promise<Fields> {
    const call = 'CreateEndpoint';
    const network = this.network(call, body);
    const id = dockerId(call, body, 'EndpointID');
    const iface = optionalObject(call, body, 'Interface');
    const ipv4 = cidr(call, iface, 'Address', 4);
    const ipv6 = cidr(call, iface, 'AddressIPv6', 6);
    const requestedMac = optionalString(call, iface, 'MacAddress')?.toLowerCase();
    if (requestedMac !== undefined && !MAC.test(requestedMac)) throw new PluginInputError(`${call}: Interface.MacAddress "${requestedMac}" is not a MAC address: use six hex pairs like 02:42:ac:11:00:02`);
    const existing = this.endpoints.get(id);
    if (existing) {
      if (existing.spec.networkId === network.spec.id && existing.spec.ipv4 === ipv4 && existing.spec.ipv6 === ipv6) return existing.created;
      throw new PluginStateError(`${call}: endpoint ${id.slice(0, 12)} already exists with other settings; delete it first`);
    }
    if (!ipv4) throw new PluginInputError(`${call}: the endpoint has no IPv4 address (Interface.Address): netctl's ${network.driver} networks need one; create the Docker network with an IPAM driver that gives addresses`);
    if (ipv6 && !network.spec.enableIPv6) throw new PluginInputError(`${call}: Interface.AddressIPv6 given, but the network was created without IPv6`);
    const spec: EndpointSpec = { id, networkId: network.spec.id, mac: requestedMac ?? macFor(ipv4), ipv4, ...(ipv6 ? { ipv6 } : {}) };
    const driver = this.driverOf(network);
    await driver.createEndpoint(network.spec, spec);
    // Docker refuses an answer that changes what it gave: the MAC only when it gave none.
    const created = { Interface: requestedMac ? {} : { MacAddress: spec.mac } };
    const record: PluginEndpointRecord = { spec, created };
    try {
      await this.save(record);
    } catch (error) {
      await driver.deleteEndpoint(network.spec, spec).catch(() => undefined);
      throw error;
    }
    return created;
  }

  private async deleteEndpoint(body: Fields): Promise<Fields> {
    const call = 'DeleteEndpoint';
    const networkId = dockerId(call, body, 'NetworkID');
    const record = this.endpoints.get(dockerId(call, body, 'EndpointID'));
    if (!record || record.spec.networkId !== networkId) return {}; // gone already
    const network = this.networks.get(networkId)!;
    // Docker gives a joined interface back under its SrcName after the Leave (macvlan's, which
    // the Leave could not reach in the container), or rolled a Join back without one: it goes now.
    if (record.spec.ports) await this.revoke(network, record);
    if (record.srcName) await this.takeInterface(network, record);
    await this.driverOf(network).deleteEndpoint(network.spec, record.spec);
    await this.deps.store.delete(ENDPOINT_PREFIX + record.spec.id);
    this.endpoints.delete(record.spec.id);
    return {};
  }

  private endpointOperInfo(body: Fields): Fields {
    const { network, endpoint } = this.endpoint('EndpointOperInfo', body);
    return { Value: this.driverOf(network).endpointInfo(network.spec, endpoint.spec) };
  }

  private async join(body: Fields): Promise<Fields> {
    const call = 'Join';
    const { network, endpoint } = this.endpoint(call, body);
    requiredString(call, body, 'SandboxKey');
    optionalObject(call, body, 'Options');
    if (endpoint.joined) return endpoint.joined; // Docker's retry
    const driver = this.driverOf(network);
    const srcName = srcNameOf(endpoint.spec.id);
    const info: JoinInfo = await driver.join(network.spec, endpoint.spec, { sandboxKey: this.deps.hostNamespace, ifname: srcName });
    const handed = info.interface && 'srcName' in info.interface ? info.interface : undefined;
    endpoint.srcName = handed?.srcName ?? srcName;
    endpoint.joined = {
      InterfaceName: { SrcName: endpoint.srcName, DstPrefix: handed?.dstPrefix ?? driver.interfacePrefix(network.spec) },
      ...(info.gateway4 ? { Gateway: info.gateway4 } : {}),
      ...(info.gateway6 ? { GatewayIPv6: info.gateway6 } : {}),
      StaticRoutes: (info.staticRoutes ?? []).map((route) => (route.nextHop ? { Destination: route.destination, RouteType: 0, NextHop: route.nextHop } : { Destination: route.destination, RouteType: 1 })),
      DisableGatewayService: info.disableGatewayService === true,
    };
    try {
      await this.save(endpoint);
    } catch (error) {
      await this.takeInterface(network, endpoint).catch(() => undefined);
      throw error;
    }
    return endpoint.joined;
  }

  private async leave(body: Fields): Promise<Fields> {
    const call = 'Leave';
    const networkId = dockerId(call, body, 'NetworkID');
    const endpoint = this.endpoints.get(dockerId(call, body, 'EndpointID'));
    if (!endpoint?.joined || endpoint.spec.networkId !== networkId) return {}; // not joined, or gone: Docker's retry
    await this.takeInterface(this.networks.get(networkId)!, endpoint);
    await this.save(endpoint);
    return {};
  }

  /**
   * The driver's leave, of the interface in this host's namespace: a veth pair goes from its host
   * end wherever the other is; an interface that lives only in the container is gone with it, or
   * comes back here after the Leave, which DeleteEndpoint then removes (srcName is kept for it).
   */
  private async takeInterface(network: PluginNetworkRecord, endpoint: PluginEndpointRecord): Promise<void> {
    await this.driverOf(network).leave(network.spec, this.endpointSpec(endpoint));
    delete endpoint.joined;
  }

  /** Publishes Docker's port map (`-p`) through the driver, replacing what the endpoint published before. */
  private async programExternalConnectivity(body: Fields): Promise<Fields> {
    const call = 'ProgramExternalConnectivity';
    const { network, endpoint } = this.endpoint(call, body);
    const ports = portMap(call, optionalObject(call, body, 'Options'));
    // Docker calls this at every container start, most with no ports: rendering the network's
    // rules again unchanged cost an iptables-restore (~30 ms, most of a start's plugin time).
    if (ports.length === 0 && !endpoint.spec.ports) return {};
    const published = await this.driverOf(network).programExternalConnectivity(network.spec, endpoint.spec, ports);
    if (published.length > 0) endpoint.spec.ports = published;
    else delete endpoint.spec.ports;
    await this.save(endpoint);
    return {};
  }

  private async revokeExternalConnectivity(body: Fields): Promise<Fields> {
    const call = 'RevokeExternalConnectivity';
    const networkId = dockerId(call, body, 'NetworkID');
    const endpoint = this.endpoints.get(dockerId(call, body, 'EndpointID'));
    if (!endpoint?.spec.ports || endpoint.spec.networkId !== networkId) return {}; // nothing published: Docker's retry
    await this.revoke(this.networks.get(networkId)!, endpoint);
    await this.save(endpoint);
    return {};
  }

  private async revoke(network: PluginNetworkRecord, endpoint: PluginEndpointRecord): Promise<void> {
    await this.driverOf(network).revokeExternalConnectivity(network.spec, endpoint.spec);
    delete endpoint.spec.ports;
  }

  /** Node discovery is for global-scope drivers; these are local: checked and accepted. */
  private discovery(call: string, body: Fields): Fields {
    const type = body.DiscoveryType;
    if (typeof type !== 'number' || !Number.isInteger(type)) throw new PluginInputError(`${call}: field "DiscoveryType" must be an integer, got ${JSON.stringify(type) ?? 'nothing'}`);
    optionalObject(call, body, 'DiscoveryData');
    return {};
  }

  private network(call: string, body: Fields): PluginNetworkRecord {
    const id = dockerId(call, body, 'NetworkID');
    const network = this.networks.get(id);
    if (!network) throw new PluginStateError(`${call}: network ${id.slice(0, 12)} not found: it was not created through this plugin, or was deleted`);
    return network;
  }

  private endpoint(call: string, body: Fields): { network: PluginNetworkRecord; endpoint: PluginEndpointRecord } {
    const network = this.network(call, body);
    const id = dockerId(call, body, 'EndpointID');
    const endpoint = this.endpoints.get(id);
    if (!endpoint || endpoint.spec.networkId !== network.spec.id) throw new PluginStateError(`${call}: endpoint ${id.slice(0, 12)} not found on network ${network.spec.id.slice(0, 12)}`);
    return { network, endpoint };
  }

  private driverOf(network: PluginNetworkRecord): Driver {
    return this.deps.drivers.get(network.driver)!;
  }

  /** The driver's view: a joined endpoint's interface is where Docker took it from (for drivers that remove it by name). */
  private endpointSpec(endpoint: PluginEndpointRecord): EndpointSpec {
    return { ...endpoint.spec, ...(endpoint.srcName ? { sandbox: { sandboxKey: this.deps.hostNamespace, ifname: endpoint.srcName } } : {}) };
  }

  private async save(endpoint: PluginEndpointRecord): Promise<void> {
    await this.deps.store.put(ENDPOINT_PREFIX + endpoint.spec.id, encode(endpoint));
    this.endpoints.set(endpoint.spec.id, endpoint);
  }
}

const PROTOCOLS: Record<number, PortMapping['protocol']> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** Docker's port map option (its PortBinding list: protocol numbers, one host port each). */
function portMap(call: string, options: Fields): PortMapping[] {
  return optionalArray(call, options, PORT_MAP_OPTION).map((item, index) => {
    const where = `${call}: ${PORT_MAP_OPTION}[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new PluginInputError(`${where} must be an object`);
    const binding = item as Fields;
    const protocol = PROTOCOLS[binding.Proto as number];
    if (!protocol) throw new PluginInputError(`${where}: Proto must be 6 (tcp), 17 (udp) or 132 (sctp), got ${JSON.stringify(binding.Proto)}`);
    const port = (key: string, min: number): number => {
      const value = binding[key] ?? 0;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65535) throw new PluginInputError(`${where}: ${key} must be a port number, got ${JSON.stringify(value)}`);
      return value;
    };
    const hostPort = port('HostPort', 0);
    const hostPortEnd = port('HostPortEnd', 0);
    if (hostPortEnd !== 0 && hostPortEnd !== hostPort) throw new PluginInputError(`${where}: host port ranges (${hostPort}-${hostPortEnd}) are not supported: publish one host port`);
    const hostIp = optionalString(where, binding, 'HostIP');
    if (hostIp !== undefined && net.isIP(hostIp) === 0) throw new PluginInputError(`${where}: HostIP ${JSON.stringify(hostIp)} is not an IP address`);
    return { protocol, containerPort: port('Port', 1), hostPort, ...(hostIp && hostIp !== '0.0.0.0' && hostIp !== '::' ? { hostIp } : {}) };
  });
}

/** Docker's boolean network options: a JSON boolean, or its text form from older engines. */
function flag(call: string, options: Fields, key: string): boolean {
  const value = options[key];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new PluginInputError(`${call}: option "${key}" must be true or false, got ${JSON.stringify(value)}`);
}

/** An address in CIDR form of one family, or undefined when not given. */
function cidr(call: string, fields: Fields, key: string, family: 4 | 6): string | undefined {
  const value = optionalString(call, fields, key);
  if (value === undefined) return undefined;
  const [ip, length, ...rest] = value.split('/');
  const max = family === 4 ? 32 : 128;
  if (rest.length > 0 || length === undefined || !/^\d+$/.test(length) || Number(length) > max || net.isIP(ip!) !== family) {
    throw new PluginInputError(`${call}: "${key}" must be an IPv${family} address with its prefix length (e.g. ${family === 4 ? '172.18.0.2/16' : 'fd00::2/64'}), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Docker's IPAMData list: pools with their gateway and aux addresses, in CIDR form. */
function ipamData(call: string, body: Fields, key: string, family: 4 | 6): IpamData[] {
  return optionalArray(call, body, key).map((item, index) => {
    const where = `${key}[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new PluginInputError(`${call}: ${where} must be an object`);
    const fields = item as Fields;
    const pool = cidr(`${call}: ${where}`, fields, 'Pool', family);
    if (!pool) throw new PluginInputError(`${call}: ${where}.Pool is missing`);
    const gateway = cidr(`${call}: ${where}`, fields, 'Gateway', family);
    const aux = stringMap(`${call}: ${where}`, fields, 'AuxAddresses');
    for (const name of Object.keys(aux)) cidr(`${call}: ${where}.AuxAddresses`, aux, name, family);
    return { addressSpace: optionalString(call, fields, 'AddressSpace') ?? '', pool, ...(gateway ? { gateway } : {}), auxAddresses: aux };
  });
}
