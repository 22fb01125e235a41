// A network as the controller stores it (key `networks/<id>` in the local store) and as the API
// shows it. Addresses the IPAM handed out are kept with their pool IDs so the exact allocations
// can be released, and re-applied after a restart.
import type { IpamData, NetworkSpec } from '../drivers/driver';

export interface IpamConfig {
  /** CIDR, e.g. 172.18.0.0/16. */
  subnet: string;
  ipRange?: string;
  /** Plain address, e.g. 172.18.0.1 (as Docker shows it). */
  gateway?: string;
  /** name → plain address. */
  auxAddresses?: Record<string, string>;
}

/** What the IPAM gave a network in one pool; addresses in CIDR form, as the IPAM returns them. */
export interface PoolAllocation {
  poolId: string;
  addressSpace: string;
  v6: boolean;
  pool: string;
  /** --ip-range as given. */
  ipRange?: string;
  gateway?: string;
  auxAddresses: Record<string, string>;
  /** The daemon chose this pool (no --subnet): no static address goes in it, as dockerd refuses. Absent in records of older releases, whose pools count as the user's so their containers' --ip keeps working. */
  dynamic?: true;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: string;
  scope: 'local' | 'global';
  /** RFC 3339 with milliseconds. */
  created: string;
  internal: boolean;
  attachable: boolean;
  enableIPv6: boolean;
  /** Predefined networks (bridge, host, none) cannot be removed. */
  predefined: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
  ipam: { driver: string; options: Record<string, string>; config: IpamConfig[] };
  allocations: PoolAllocation[];
}

/**
 * The Scope Docker shows: "swarm" for overlay networks, which the cluster manages as swarm mode
 * manages Docker's (names across hosts, --attachable); otherwise where the network's data lives.
 */
export const shownScope = (network: Pick<NetworkRecord, 'driver' | 'scope'>): 'local' | 'global' | 'swarm' => (network.driver === 'overlay' && network.scope === 'global' ? 'swarm' : network.scope);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A stored network record, read from JSON another host or version may have written: its shape checked, not trusted. */
export function parseNetworkRecord(text: string): NetworkRecord {
  const value: unknown = JSON.parse(text);
  const problem = !isObject(value)
    ? 'not an object'
    : (['id', 'name', 'driver', 'created'] as const).find((field) => typeof value[field] !== 'string') ??
      (!isObject(value['options']) ? 'options' : !isObject(value['labels']) ? 'labels' : !isObject(value['ipam']) || !Array.isArray(value['ipam']['config']) ? 'ipam' : !Array.isArray(value['allocations']) ? 'allocations' : undefined);
  if (problem !== undefined) throw new Error(`not a network record (${problem === 'not an object' ? problem : `bad field ${problem}`})`);
  return value as unknown as NetworkRecord;
}

function ipamData(allocation: PoolAllocation): IpamData {
  return {
    addressSpace: allocation.addressSpace,
    pool: allocation.pool,
    ...(allocation.gateway !== undefined ? { gateway: allocation.gateway } : {}),
    auxAddresses: { ...allocation.auxAddresses },
  };
}

/** The driver's view of a network. */
export function specOf(record: NetworkRecord): NetworkSpec {
  return {
    id: record.id,
    name: record.name,
    options: record.options,
    internal: record.internal,
    enableIPv6: record.enableIPv6,
    ipv4: record.allocations.filter((a) => !a.v6).map(ipamData),
    ipv6: record.allocations.filter((a) => a.v6).map(ipamData),
  };
}
