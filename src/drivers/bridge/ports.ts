// The ports the bridge driver publishes, by network and endpoint: conflicts are found here before
// anything changes, and a network's firewall rules are rendered from its entries.
import dgram from 'node:dgram';
import net from 'node:net';
import type { PublishedPort } from '../../firewall';
import { type PortMapping, PortConflictError } from '../driver';

const ANY = new Set(['0.0.0.0', '::', undefined]);

/** A binding without an address is IPv4's (every IPv4 address, or the network's host binding address). */
const isIpv6 = (mapping: PortMapping): boolean => mapping.hostIp?.includes(':') ?? false;

/** Whether two host bindings would take the same port: of one family, and any address overlaps every address. */
const overlaps = (a: PortMapping, b: PortMapping): boolean =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && isIpv6(a) === isIpv6(b) && (ANY.has(a.hostIp) || ANY.has(b.hostIp) || a.hostIp === b.hostIp);

/** The container's addresses, plain, that its published ports lead to. */
export interface ContainerAddresses {
  ipv4?: string;
  ipv6?: string;
}

/** A dual-stack container is published on IPv6 too: each binding of every address gets its [::] twin with the same host port, as Docker shows them. */
export function withIpv6Twins(mappings: readonly PortMapping[], addresses: ContainerAddresses): PortMapping[] {
  if (!addresses.ipv6) return [...mappings];
  const twins = mappings.filter((m) => m.hostIp === undefined && !mappings.some((o) => o.hostIp === '::' && o.protocol === m.protocol && o.hostPort === m.hostPort && o.containerPort === m.containerPort));
  return [...mappings, ...twins.map((m) => ({ ...m, hostIp: '::' }))];
}

const describe = (p: PortMapping): string => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}`;

/** Resolves with a free port when `port` is 0, or `port` itself when no host process holds it (TCP and UDP can both be checked by binding). */
function probe(mapping: PortMapping): Promise<number> {
  if (mapping.protocol === 'sctp') return Promise.resolve(mapping.hostPort);
  return new Promise((resolve, reject) => {
    const host = mapping.hostIp ?? '0.0.0.0';
    const done = (port: number): void => resolve(port);
    if (mapping.protocol === 'udp') {
      const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', (error: NodeJS.ErrnoException) => reject(error));
      socket.bind(mapping.hostPort, host, () => {
        const port = socket.address().port;
        socket.close(() => done(port));
      });
      return;
    }
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: mapping.hostPort, host, exclusive: true }, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => done(port));
    });
  });
}

export class PortTable {
  /** network ID → endpoint ID → its container addresses and mappings. */
  private readonly byNetwork = new Map<string, Map<string, { addresses: ContainerAddresses; mappings: PortMapping[] }>>();

  /**
   * Checks `mappings` against every other endpoint's and against the host's own listeners, and
   * picks a free host port for each hostPort 0. Changes nothing.
   */
  async resolve(endpointId: string, mappings: readonly PortMapping[]): Promise<PortMapping[]> {
    const others = [...this.byNetwork.values()].flatMap((endpoints) => [...endpoints].filter(([id]) => id !== endpointId).flatMap(([, e]) => e.mappings));
    const resolved: PortMapping[] = [];
    for (const mapping of mappings) {
      const taken = [...others, ...resolved].find((other) => mapping.hostPort !== 0 && overlaps(mapping, other));
      if (taken) throw new PortConflictError(`Bind for ${describe(mapping)} failed: port is already allocated`);
      let hostPort: number;
      try {
        hostPort = await probe(mapping);
      } catch (error) {
        throw new PortConflictError(`Bind for ${describe(mapping)} failed: ${(error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use by a process of the host' : (error as Error).message}`);
      }
      resolved.push({ ...mapping, hostPort });
    }
    return resolved;
  }

  set(networkId: string, endpointId: string, addresses: ContainerAddresses, mappings: PortMapping[]): void {
    const endpoints = this.byNetwork.get(networkId) ?? new Map();
    if (mappings.length > 0) endpoints.set(endpointId, { addresses, mappings });
    else endpoints.delete(endpointId);
    this.byNetwork.set(networkId, endpoints);
  }

  mappingsOf(networkId: string, endpointId: string): PortMapping[] {
    return [...(this.byNetwork.get(networkId)?.get(endpointId)?.mappings ?? [])];
  }

  forgetNetwork(networkId: string): void {
    this.byNetwork.delete(networkId);
  }

  /** The firewall's view of a network's published ports (or of one endpoint's): each binding leads to the container's address of its family. */
  published(networkId: string, endpointId?: string): PublishedPort[] {
    return [...(this.byNetwork.get(networkId) ?? [])]
      .filter(([id]) => endpointId === undefined || id === endpointId)
      .flatMap(([, { addresses, mappings }]) =>
        mappings.flatMap((m) => {
          const containerIp = isIpv6(m) ? addresses.ipv6 : addresses.ipv4;
          return containerIp === undefined ? [] : [{ protocol: m.protocol, hostPort: m.hostPort, containerPort: m.containerPort, containerIp, ...(m.hostIp !== undefined ? { hostIp: m.hostIp } : {}) }];
        }),
      );
  }
}
