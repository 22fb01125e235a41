// A global-scope network driver as an embedder would register one (overlay comes later): its
// networks live in the cluster store, their addresses in the GlobalDefault space; it makes no
// interfaces (a join gives none). It keeps which networks it holds on this host, for tests to ask.
import type { Capability, Driver, EndpointProposal, JoinInfo, NetworkSpec, PortMapping, RestoreResult } from '../../src/drivers/driver';

export class TestGlobalDriver implements Driver {
  readonly type = 'gtest';
  readonly capability: Capability = { dataScope: 'global', connectivityScope: 'global', createsInSandbox: false };
  readonly usesIpam = true;
  /** The networks this host's driver was given and not yet told to delete. */
  readonly networks = new Set<string>();

  validateOptions(): void {}

  effectiveOptions(network: NetworkSpec): Record<string, string> {
    return { ...network.options };
  }

  interfacePrefix(): string {
    return 'eth';
  }

  async createNetwork(network: NetworkSpec): Promise<void> {
    this.networks.add(network.id);
  }

  async deleteNetwork(network: NetworkSpec): Promise<void> {
    this.networks.delete(network.id);
  }

  async createEndpoint(): Promise<EndpointProposal> {
    return {};
  }

  async deleteEndpoint(): Promise<void> {}

  endpointInfo(): Record<string, unknown> {
    return {};
  }

  async join(): Promise<JoinInfo> {
    return {};
  }

  async leave(): Promise<void> {}

  async programExternalConnectivity(_network: NetworkSpec, _endpoint: unknown, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    return [...ports];
  }

  async revokeExternalConnectivity(): Promise<void> {}

  async restore(networks: readonly NetworkSpec[]): Promise<RestoreResult> {
    for (const network of networks) this.networks.add(network.id);
    return { rejoin: [], failed: [] };
  }
}
