// The JSON of Docker's NetworkDriver and IpamDriver calls (libnetwork's remote/api and
// ipams/remote/api types): requests built from the contracts' values, answers checked and turned
// into them. A malformed answer is an AnswerError saying which field is wrong.
import { ipVersion, parsePrefix } from '../../ip/address';
import type { Capability, EndpointProposal, EndpointSpec, IpamData, JoinInfo, NetworkSpec, PortMapping, StaticRoute } from '../driver';

/** An answer that does not have the shape of the protocol's; the caller names the plugin. */
export class AnswerError extends Error {
  override readonly name = 'AnswerError';
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AnswerError(`${what} is not a JSON object`);
  return value as Json;
}

function optionalString(body: Json, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new AnswerError(`"${field}" is not a string`);
  return value;
}

function optionalBoolean(body: Json, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new AnswerError(`"${field}" is not a boolean`);
  return value;
}

function address(body: Json, field: string): string | undefined {
  const value = optionalString(body, field);
  if (value !== undefined && ipVersion(value) === 0) throw new AnswerError(`"${field}" is not an IP address: ${JSON.stringify(value)}`);
  return value;
}

function cidr(body: Json, field: string): string | undefined {
  const value = optionalString(body, field);
  if (value === undefined) return undefined;
  try {
    parsePrefix(value, true);
  } catch {
    throw new AnswerError(`"${field}" is not an address with a prefix length (a.b.c.d/nn): ${JSON.stringify(value)}`);
  }
  return value;
}

function stringMap(body: Json, field: string): Record<string, string> {
  const value = body[field];
  if (value === undefined || value === null) return {};
  const map = object(value, `"${field}"`);
  for (const [key, entry] of Object.entries(map)) if (typeof entry !== 'string') throw new AnswerError(`"${field}.${key}" is not a string`);
  return map as Record<string, string>;
}

/** A 200 answer that carries an error anyway: "Err" for network drivers, "Error" for IPAM drivers. */
export function answerError(body: unknown, field: 'Err' | 'Error'): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Json)[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Plugin.Activate: the subsystems the plugin implements. */
export function decodeActivate(body: unknown): string[] {
  const implementsList = object(body, 'the answer')['Implements'];
  if (!Array.isArray(implementsList) || implementsList.some((entry) => typeof entry !== 'string')) throw new AnswerError('"Implements" is not a list of strings');
  return implementsList as string[];
}

// ---- NetworkDriver ----

export function decodeCapabilities(body: unknown): Capability {
  const answer = object(body, 'the answer');
  const scope = answer['Scope'];
  if (scope !== 'local' && scope !== 'global') throw new AnswerError(`invalid capability: expecting 'local' or 'global', got ${JSON.stringify(scope)}`);
  const connectivity = answer['ConnectivityScope'] ?? '';
  if (connectivity !== '' && connectivity !== 'local' && connectivity !== 'global') throw new AnswerError(`invalid connectivity scope: expecting 'local' or 'global', got ${JSON.stringify(connectivity)}`);
  return { dataScope: scope, connectivityScope: connectivity === '' ? scope : connectivity, createsInSandbox: false };
}

function encodeIpamData(data: IpamData): Json {
  return {
    AddressSpace: data.addressSpace,
    Pool: data.pool,
    ...(data.gateway ? { Gateway: data.gateway } : {}),
    ...(Object.keys(data.auxAddresses).length > 0 ? { AuxAddresses: data.auxAddresses } : {}),
  };
}

/** CreateNetwork's request: the user's -o options under com.docker.network.generic, as Docker sends them. */
export function encodeCreateNetwork(network: NetworkSpec): Json {
  return {
    NetworkID: network.id,
    Options: {
      'com.docker.network.generic': { ...network.options },
      'com.docker.network.enable_ipv4': network.ipv4.length > 0,
      'com.docker.network.enable_ipv6': network.enableIPv6,
      ...(network.internal ? { 'com.docker.network.internal': true } : {}),
    },
    IPv4Data: network.ipv4.map(encodeIpamData),
    IPv6Data: network.ipv6.map(encodeIpamData),
  };
}

export function encodeCreateEndpoint(endpoint: EndpointSpec): Json {
  return {
    NetworkID: endpoint.networkId,
    EndpointID: endpoint.id,
    Options: portOptions(endpoint.ports ?? []),
    Interface: { Address: endpoint.ipv4 ?? '', AddressIPv6: endpoint.ipv6 ?? '', MacAddress: endpoint.mac },
  };
}

/**
 * CreateEndpoint's answer: what the plugin proposes for what the core left empty. A value that
 * differs from one the core gave is refused (Docker's "driver modified interface ...").
 */
export function decodeCreateEndpoint(body: unknown, endpoint: EndpointSpec): EndpointProposal {
  const answer = object(body, 'the answer');
  if (answer['Interface'] === undefined || answer['Interface'] === null) return {};
  const iface = object(answer['Interface'], '"Interface"');
  const proposal: EndpointProposal = {};
  const mac = optionalString(iface, 'MacAddress');
  if (mac !== undefined) {
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new AnswerError(`"Interface.MacAddress" is not a MAC address: ${JSON.stringify(mac)}`);
    if (mac.toLowerCase() !== endpoint.mac.toLowerCase()) throw new AnswerError(`driver modified interface MAC address: ${mac}, not ${endpoint.mac}`);
  }
  for (const [field, given, key] of [['Address', endpoint.ipv4, 'ipv4'], ['AddressIPv6', endpoint.ipv6, 'ipv6']] as const) {
    const value = cidr(iface, field);
    if (value === undefined || value === given) continue;
    if (given !== undefined) throw new AnswerError(`driver modified interface address: ${value}, not ${given}`);
    proposal[key] = value;
  }
  return proposal;
}

export const encodeEndpointRef = (endpoint: EndpointSpec): Json => ({ NetworkID: endpoint.networkId, EndpointID: endpoint.id });

export function encodeJoin(endpoint: EndpointSpec, sandboxKey: string): Json {
  return { ...encodeEndpointRef(endpoint), SandboxKey: sandboxKey, Options: portOptions(endpoint.ports ?? []) };
}

/** Join's answer: the interface the core moves in, gateways, static routes. */
export function decodeJoin(body: unknown): JoinInfo {
  const answer = object(body, 'the answer');
  const info: JoinInfo = {};
  if (answer['InterfaceName'] !== undefined && answer['InterfaceName'] !== null) {
    const names = object(answer['InterfaceName'], '"InterfaceName"');
    const srcName = optionalString(names, 'SrcName');
    const dstPrefix = optionalString(names, 'DstPrefix');
    if (srcName !== undefined) {
      if (dstPrefix === undefined) throw new AnswerError('"InterfaceName.DstPrefix" is missing: the prefix the interface is named with in the container ("eth")');
      if (!/^[^/\s:]{1,15}$/.test(srcName)) throw new AnswerError(`"InterfaceName.SrcName" is not an interface name: ${JSON.stringify(srcName)}`);
      if (!/^[a-zA-Z][a-zA-Z0-9_-]{0,9}$/.test(dstPrefix)) throw new AnswerError(`"InterfaceName.DstPrefix" is not an interface name prefix: ${JSON.stringify(dstPrefix)}`);
      info.interface = { srcName, dstPrefix };
    }
  }
  const gateway4 = address(answer, 'Gateway');
  if (gateway4 !== undefined) {
    if (ipVersion(gateway4) !== 4) throw new AnswerError(`"Gateway" is not an IPv4 address: ${gateway4}`);
    info.gateway4 = gateway4;
  }
  const gateway6 = address(answer, 'GatewayIPv6');
  if (gateway6 !== undefined) {
    if (ipVersion(gateway6) !== 6) throw new AnswerError(`"GatewayIPv6" is not an IPv6 address: ${gateway6}`);
    info.gateway6 = gateway6;
  }
  const routes = answer['StaticRoutes'];
  if (routes !== undefined && routes !== null) {
    if (!Array.isArray(routes)) throw new AnswerError('"StaticRoutes" is not a list');
    info.staticRoutes = routes.map((route, index) => decodeRoute(object(route, `"StaticRoutes[${index}]"`), index));
  }
  if (optionalBoolean(answer, 'DisableGatewayService')) info.disableGatewayService = true;
  return info;
}

/** RouteType 0: through NextHop; 1: connected (on the link itself). */
function decodeRoute(route: Json, index: number): StaticRoute {
  const destination = cidr(route, 'Destination');
  if (destination === undefined) throw new AnswerError(`"StaticRoutes[${index}].Destination" is missing`);
  const type = route['RouteType'] ?? 0;
  const nextHop = address(route, 'NextHop');
  if (type === 1) return { destination };
  if (type !== 0) throw new AnswerError(`"StaticRoutes[${index}].RouteType" is ${JSON.stringify(type)}: 0 (next hop) or 1 (connected)`);
  if (nextHop === undefined) throw new AnswerError(`"StaticRoutes[${index}]" of RouteType 0 has no NextHop`);
  return { destination, nextHop };
}

const PROTOCOL_NUMBERS: Record<PortMapping['protocol'], number> = { tcp: 6, udp: 17, sctp: 132 };

/**
 * The published ports as Docker's endpoint options (types.TransportPort, types.PortBinding),
 * which it sends with CreateEndpoint, Join and ProgramExternalConnectivity.
 */
function portOptions(ports: readonly PortMapping[]): Json {
  if (ports.length === 0) return {};
  return {
    'com.docker.network.endpoint.exposedports': ports.map((p) => ({ Proto: PROTOCOL_NUMBERS[p.protocol], Port: p.containerPort })),
    'com.docker.network.portmap': ports.map((p) => ({ Proto: PROTOCOL_NUMBERS[p.protocol], IP: '', Port: p.containerPort, HostIP: p.hostIp ?? '', HostPort: p.hostPort, HostPortEnd: p.hostPort })),
  };
}

export function encodeProgramExternalConnectivity(endpoint: EndpointSpec, ports: readonly PortMapping[]): Json {
  return { ...encodeEndpointRef(endpoint), Options: portOptions(ports) };
}

export function decodeOperInfo(body: unknown): Record<string, unknown> {
  const value = object(body, 'the answer')['Value'];
  return value === undefined || value === null ? {} : object(value, '"Value"');
}

// ---- IpamDriver ----

export function decodeIpamCapabilities(body: unknown): { requiresMacAddress: boolean; requiresRequestReplay: boolean } {
  const answer = object(body, 'the answer');
  return { requiresMacAddress: optionalBoolean(answer, 'RequiresMACAddress'), requiresRequestReplay: optionalBoolean(answer, 'RequiresRequestReplay') };
}

export function decodeAddressSpaces(body: unknown): { localDefaultAddressSpace: string; globalDefaultAddressSpace: string } {
  const answer = object(body, 'the answer');
  const local = optionalString(answer, 'LocalDefaultAddressSpace');
  const global = optionalString(answer, 'GlobalDefaultAddressSpace');
  if (local === undefined) throw new AnswerError('"LocalDefaultAddressSpace" is missing');
  return { localDefaultAddressSpace: local, globalDefaultAddressSpace: global ?? '' };
}

export function decodePool(body: unknown): { poolId: string; pool: string; meta: Record<string, string> } {
  const answer = object(body, 'the answer');
  const poolId = optionalString(answer, 'PoolID');
  if (poolId === undefined) throw new AnswerError('"PoolID" is missing');
  const pool = cidr(answer, 'Pool');
  if (pool === undefined) throw new AnswerError('"Pool" is missing');
  return { poolId, pool, meta: stringMap(answer, 'Data') };
}

/** RequestAddress's answer: an address with its prefix length; none is an error (Docker's ErrNoIPReturned). */
export function decodeAddress(body: unknown): string {
  const value = cidr(object(body, 'the answer'), 'Address');
  if (value === undefined) throw new AnswerError('no address returned');
  return value;
}
