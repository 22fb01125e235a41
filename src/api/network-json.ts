// Networks in the Docker Engine API's JSON shape (v1.41 field names), both ways: the create
// request read and checked field by field, and the network as inspect and list show it.
import { type CreateNetworkRequest, type EndpointRecord, type IpamConfig, type NetworkPeer, type NetworkRecord, type SandboxRecord, shownScope } from '../controller';
import { badRequest, describeValue } from './errors';

/** Inspect's Containers: one entry per endpoint, keyed by its container (or, without one, its sandbox). */
function containersJson(attached: ReadonlyArray<{ endpoint: EndpointRecord; sandbox: SandboxRecord }>): Record<string, unknown> {
  return Object.fromEntries(
    attached.map(({ endpoint, sandbox }) => [
      sandbox.containerId ?? sandbox.id,
      { Name: endpoint.name, EndpointID: endpoint.id, MacAddress: endpoint.mac, IPv4Address: endpoint.ipv4?.address ?? '', IPv6Address: endpoint.ipv6?.address ?? '' },
    ]),
  );
}

/**
 * A network as inspect shows it (with its endpoints and the cluster hosts on it) and as list shows
 * it (Containers empty, no Peers, as Docker).
 */
export function networkJson(network: NetworkRecord, attached: ReadonlyArray<{ endpoint: EndpointRecord; sandbox: SandboxRecord }> = [], peers: readonly NetworkPeer[] = []): Record<string, unknown> {
  return {
    Name: network.name,
    Id: network.id,
    Created: network.created,
    Scope: shownScope(network),
    Driver: network.driver,
    EnableIPv6: network.enableIPv6,
    IPAM: {
      Driver: network.ipam.driver,
      Options: network.ipam.options,
      Config: network.ipam.config.map((c) => ({
        Subnet: c.subnet,
        ...(c.ipRange !== undefined ? { IPRange: c.ipRange } : {}),
        ...(c.gateway !== undefined ? { Gateway: c.gateway } : {}),
        ...(c.auxAddresses !== undefined ? { AuxiliaryAddresses: c.auxAddresses } : {}),
      })),
    },
    Internal: network.internal,
    Attachable: network.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containersJson(attached),
    Options: network.options,
    Labels: network.labels,
    // Omitted when empty, as Docker does.
    ...(peers.length > 0 ? { Peers: peers.map((peer) => ({ Name: peer.name, IP: peer.address })) } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string, got ${describeValue(value)}`);
  return value;
}

function optionalBool(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw badRequest(`${field} must be true or false, got ${describeValue(value)}`);
  return value;
}

export function stringMap(body: Record<string, unknown>, field: string): Record<string, string> {
  const value = body[field];
  if (value === undefined || value === null) return {};
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) throw badRequest(`${field} must be an object of string values`);
  return value as Record<string, string>;
}

function ipamConfig(entry: unknown, index: number): Partial<IpamConfig> {
  if (!isObject(entry)) throw badRequest(`IPAM.Config[${index}] must be an object with Subnet, IPRange, Gateway, AuxiliaryAddresses`);
  const subnet = optionalString(entry, 'Subnet');
  const ipRange = optionalString(entry, 'IPRange');
  const gateway = optionalString(entry, 'Gateway');
  const aux = stringMap(entry, 'AuxiliaryAddresses');
  return {
    ...(subnet ? { subnet } : {}),
    ...(ipRange ? { ipRange } : {}),
    ...(gateway ? { gateway } : {}),
    ...(Object.keys(aux).length > 0 ? { auxAddresses: aux } : {}),
  };
}

export function parseCreateRequest(body: unknown): CreateNetworkRequest {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object such as {"Name":"n1","Driver":"bridge"}');
  const name = optionalString(body, 'Name');
  if (!name) throw badRequest('Name is required: give the network a name');
  const driver = optionalString(body, 'Driver');
  const request: CreateNetworkRequest = {
    name,
    ...(driver ? { driver } : {}),
    internal: optionalBool(body, 'Internal'),
    attachable: optionalBool(body, 'Attachable'),
    enableIPv6: optionalBool(body, 'EnableIPv6'),
    options: stringMap(body, 'Options'),
    labels: stringMap(body, 'Labels'),
  };
  if (optionalBool(body, 'Ingress')) throw badRequest('ingress networks need swarm mode, which netctl does not have');
  if (optionalBool(body, 'ConfigOnly')) throw badRequest('config-only networks are not supported by netctl');
  const ipam = body['IPAM'];
  if (ipam !== undefined && ipam !== null) {
    if (!isObject(ipam)) throw badRequest('IPAM must be an object with Driver, Config and Options');
    const config = ipam['Config'];
    if (config !== undefined && config !== null && !Array.isArray(config)) throw badRequest('IPAM.Config must be a list');
    const ipamDriver = optionalString(ipam, 'Driver');
    request.ipam = {
      ...(ipamDriver ? { driver: ipamDriver } : {}),
      options: stringMap(ipam, 'Options'),
      config: ((config as unknown[] | null | undefined) ?? []).map(ipamConfig),
    };
  }
  return request;
}
