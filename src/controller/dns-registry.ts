// What the CNM core tells the embedded DNS: each endpoint's names (on user-defined networks, as
// Docker: the default bridge, host and none have none), other hosts' endpoints as drivers read
// them in cluster table entries, and each sandbox's listeners with its scope, asked per query so a
// connect or disconnect changes what the sandbox sees at once.
import { addressOf } from '../ip/address';
import type { DnsServer, NameTable } from '../dns';
import type { PublishedNames } from '../drivers/driver';
import type { EndpointRecord, SandboxRecord } from './endpoint-record';
import { isGatewayLeg } from './gateway-leg';
import type { NetworkRecord } from './network-record';

export interface DnsDeps {
  server: DnsServer;
  names: NameTable;
}

/** Docker gives names on user-defined networks only. */
export const hasNames = (network: NetworkRecord): boolean => !network.predefined;

export class DnsRegistry {
  /** network ID → the name-table keys of other hosts' endpoints on it. */
  private readonly remote = new Map<string, Set<string>>();

  constructor(private readonly deps: DnsDeps) {}

  register(endpoint: EndpointRecord, network: NetworkRecord): void {
    // A gateway leg is no name of its container's.
    if (!hasNames(network) || isGatewayLeg({ name: endpoint.name, networkName: network.name })) return;
    this.deps.names.add(endpoint.id, {
      networkId: network.id,
      networkName: network.name,
      name: endpoint.name,
      aliases: endpoint.aliases,
      ...(endpoint.hostname ? { hostname: endpoint.hostname } : {}),
      ...(endpoint.ipv4 ? { ipv4: addressOf(endpoint.ipv4.address) } : {}),
      ...(endpoint.ipv6 ? { ipv6: addressOf(endpoint.ipv6.address) } : {}),
    });
  }

  unregister(endpointId: string): void {
    this.deps.names.remove(endpointId);
  }

  /**
   * Another host's endpoint, as an entry of a network's table names it (`entryKey`: the table
   * and key), answered to this host's sandboxes on that network; `names` undefined removes it.
   */
  setRemote(network: NetworkRecord, entryKey: string, names: PublishedNames | undefined): void {
    const key = `remote/${network.id}/${entryKey}`;
    const keys = this.remote.get(network.id) ?? new Set<string>();
    if (!names || !hasNames(network)) {
      this.deps.names.remove(key);
      keys.delete(key);
    } else {
      this.deps.names.add(key, { networkId: network.id, networkName: network.name, name: names.name, aliases: names.aliases, ...(names.ipv4 ? { ipv4: names.ipv4 } : {}), ...(names.ipv6 ? { ipv6: names.ipv6 } : {}) });
      keys.add(key);
    }
    if (keys.size > 0) this.remote.set(network.id, keys);
    else this.remote.delete(network.id);
  }

  /** Drops every other host's name on a network this host lets go of. */
  forgetRemote(networkId: string): void {
    for (const key of this.remote.get(networkId) ?? []) this.deps.names.remove(key);
    this.remote.delete(networkId);
  }

  /**
   * Opens the sandbox's listeners. `endpoints` gives its current endpoints with their networks:
   * it sees the names of those networks, and forwards only while one of them is not --internal
   * (a --network none sandbox has no way out either), to its own resolvers if it has some.
   */
  open(sandbox: SandboxRecord, endpoints: () => Array<{ network: NetworkRecord }>): void {
    this.deps.server.open(sandbox.key, {
      ...(sandbox.dns ? { upstreams: sandbox.dns.map((address) => ({ address, port: 53 })) } : {}),
      networkIds: () => endpoints().filter((e) => hasNames(e.network)).map((e) => e.network.id),
      mayForward: () => endpoints().some((e) => !e.network.internal),
    });
  }

  close(key: string): void {
    this.deps.server.close(key);
  }
}
