// The names the embedded DNS answers, and their scope: each network holds the names of its
// endpoints (container name, hostname, aliases); a sandbox sees only the networks it is attached
// to. Pure bookkeeping, no I/O: the resolver asks it per query.

export interface NamedEndpoint {
  networkId: string;
  networkName: string;
  /** The container's name: answered as itself and as `name.network`. */
  name: string;
  hostname?: string;
  aliases: readonly string[];
  /** Plain addresses (no prefix length). */
  ipv4?: string;
  ipv6?: string;
}

export type Family = 'A' | 'AAAA';

export interface Answer {
  /** The name is known in the sandbox's scope (so a query for the other family gets NOERROR, empty). */
  known: boolean;
  /** Every address of the requested family, shuffled per query as Docker round-robins. */
  addresses: string[];
}

/** Names compare case-insensitively, and a trailing dot (the root) is ignored. */
export const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export class NameTable {
  private readonly endpoints = new Map<string, NamedEndpoint>();
  /** network ID → name → endpoint IDs answering it. */
  private readonly byNetwork = new Map<string, Map<string, Set<string>>>();
  /** network ID → its name, for `a.network` queries. */
  private readonly networkNames = new Map<string, string>();
  /** address → endpoint IDs holding it (on different networks), for PTR queries. */
  private readonly byAddress = new Map<string, Set<string>>();

  /** Adds (or replaces) an endpoint's names. */
  add(endpointId: string, endpoint: NamedEndpoint): void {
    this.remove(endpointId);
    this.endpoints.set(endpointId, endpoint);
    const names = this.byNetwork.get(endpoint.networkId) ?? new Map<string, Set<string>>();
    this.byNetwork.set(endpoint.networkId, names);
    this.networkNames.set(endpoint.networkId, normalize(endpoint.networkName));
    for (const name of namesOf(endpoint)) {
      const holders = names.get(name) ?? new Set<string>();
      holders.add(endpointId);
      names.set(name, holders);
    }
    for (const address of addressesOf(endpoint)) {
      const holders = this.byAddress.get(address) ?? new Set<string>();
      holders.add(endpointId);
      this.byAddress.set(address, holders);
    }
  }

  remove(endpointId: string): void {
    const endpoint = this.endpoints.get(endpointId);
    if (!endpoint) return;
    this.endpoints.delete(endpointId);
    const names = this.byNetwork.get(endpoint.networkId)!;
    for (const name of namesOf(endpoint)) {
      const holders = names.get(name);
      holders?.delete(endpointId);
      if (holders?.size === 0) names.delete(name);
    }
    if (names.size === 0) {
      this.byNetwork.delete(endpoint.networkId);
      this.networkNames.delete(endpoint.networkId);
    }
    for (const address of addressesOf(endpoint)) {
      const holders = this.byAddress.get(address);
      holders?.delete(endpointId);
      if (holders?.size === 0) this.byAddress.delete(address);
    }
  }

  /**
   * Resolves `query` for a sandbox attached to `networkIds`: first as a name on any of them, then
   * `a.b` as name `a` on the attached network named `b`.
   */
  lookup(query: string, networkIds: readonly string[], family: Family): Answer {
    const name = normalize(query);
    let holders = this.holders(name, networkIds);
    if (holders.length === 0) {
      for (const id of networkIds) {
        const networkName = this.networkNames.get(id);
        if (networkName === undefined || !name.endsWith(`.${networkName}`)) continue;
        holders = holders.concat(this.holders(name.slice(0, -networkName.length - 1), [id]));
      }
    }
    const addresses = holders.map((e) => (family === 'A' ? e.ipv4 : e.ipv6)).filter((a): a is string => a !== undefined);
    return { known: holders.length > 0, addresses: shuffle([...new Set(addresses)]) };
  }

  /** PTR: `name.network` of every endpoint with `address` (canonical text form) on the sandbox's networks. */
  reverse(address: string, networkIds: readonly string[]): string[] {
    const scope = new Set(networkIds);
    return [...(this.byAddress.get(address) ?? [])].map((id) => this.endpoints.get(id)!).filter((e) => scope.has(e.networkId)).map((e) => `${normalize(e.name)}.${normalize(e.networkName)}`);
  }

  private holders(name: string, networkIds: readonly string[]): NamedEndpoint[] {
    const found: NamedEndpoint[] = [];
    for (const id of networkIds) for (const endpointId of this.byNetwork.get(id)?.get(name) ?? []) found.push(this.endpoints.get(endpointId)!);
    return found;
  }
}

const addressesOf = (endpoint: NamedEndpoint): string[] => [endpoint.ipv4, endpoint.ipv6].filter((a): a is string => a !== undefined);

function namesOf(endpoint: NamedEndpoint): Set<string> {
  return new Set([endpoint.name, ...(endpoint.hostname ? [endpoint.hostname] : []), ...endpoint.aliases].map(normalize));
}
