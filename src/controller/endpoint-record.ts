// Sandboxes and endpoints as the controller stores them (keys `sandboxes/<id>` and
// `endpoints/<id>` in the local store). An endpoint keeps the pool IDs of its addresses so
// exactly those are released, and its interface name so a restart can join it again.
import type { EndpointSpec, PortMapping } from '../drivers/driver';
import type { StoredTableEntry } from './tables';

export interface SandboxRecord {
  id: string;
  /** The namespace's path. */
  key: string;
  /** An engine's namespace (an external key): netctl never removes it; its owner does. */
  external?: boolean;
  /** An external namespace's inode when adopted: a key that names no namespace or another one later is gone. */
  namespaceInode?: number;
  /** The container the sandbox belongs to, when a launcher or engine said so. */
  containerId?: string;
  /** Who made it, when it said so (the daemon's launcher says "launcher"): one owner does not touch another's. */
  owner?: string;
  /** Resolvers the sandbox's embedded DNS forwards to instead of the daemon's (`run --dns`). */
  dns?: string[];
  created: string;
}

/** An address an endpoint holds: CIDR form, and the pool it came from. */
export interface EndpointAddress {
  poolId: string;
  address: string;
}

export interface EndpointRecord {
  id: string;
  /** Docker names an endpoint after its container. */
  name: string;
  /** The container's hostname, a name the embedded DNS answers too. */
  hostname?: string;
  networkId: string;
  sandboxId: string;
  /** ethN inside the sandbox. */
  ifname: string;
  /** The name its driver handed the interface over as: it goes back under it before the leave. */
  handedOver?: string;
  mac: string;
  ipv4?: EndpointAddress;
  ipv6?: EndpointAddress;
  aliases: string[];
  /** The static addresses the connect asked for (Docker's IPAMConfig), plain. */
  requested?: { ipv4?: string; ipv6?: string };
  /** The gateways the driver offered at join (none on internal networks). */
  gateway4?: string;
  gateway6?: string;
  /** The driver said this endpoint never carries the sandbox's default route. */
  noGatewayService?: boolean;
  /** Ports published through this endpoint, host ports resolved; empty when its driver gave no details. */
  ports?: PortMapping[];
  /** What its join published in the cluster's tables, withdrawn when it leaves. */
  tableEntries?: StoredTableEntry[];
  created: string;
}

/** The driver's view of an endpoint; `sandboxKey` tells where its interface is. */
export function endpointSpecOf(record: EndpointRecord, sandboxKey: string | undefined): EndpointSpec {
  return {
    id: record.id,
    networkId: record.networkId,
    name: record.name,
    aliases: [...record.aliases],
    mac: record.mac,
    ...(record.ipv4 ? { ipv4: record.ipv4.address } : {}),
    ...(record.ipv6 ? { ipv6: record.ipv6.address } : {}),
    ...(record.ports ? { ports: record.ports } : {}),
    ...(sandboxKey !== undefined ? { sandbox: { sandboxKey, ifname: record.ifname } } : {}),
  };
}
