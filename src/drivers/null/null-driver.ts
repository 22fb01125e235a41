// The "null" driver of Docker's predefined `none` network: a sandbox with loopback only. It has
// no kernel objects of its own and takes no addresses.
import { type Capability, type Driver, type EndpointProposal, InvalidOptionError, type JoinInfo, type NetworkSpec, type PortMapping, type RestoreResult } from '../driver';

/** Shared by drivers whose networks have nothing in the kernel: null and host. */
export abstract class StatelessDriver implements Driver {
  abstract readonly type: string;
  readonly capability: Capability = { dataScope: 'local', connectivityScope: 'local', createsInSandbox: true };
  readonly usesIpam = false;

  validateOptions(options: Readonly<Record<string, string>>): void {
    const keys = Object.keys(options);
    if (keys.length > 0) throw new InvalidOptionError(`driver ${this.type} takes no options, got ${keys.join(', ')}`);
  }

  effectiveOptions(): Record<string, string> {
    return {};
  }

  interfacePrefix(): string {
    return 'eth';
  }

  async createNetwork(): Promise<void> {}

  async deleteNetwork(): Promise<void> {}

  async createEndpoint(): Promise<EndpointProposal> {
    return {};
  }

  async deleteEndpoint(): Promise<void> {}

  endpointInfo(): Record<string, unknown> {
    return {};
  }

  /**
   * Nothing to put in a sandbox: a container is on these networks only by its mode (loopback
   * alone, or the host's own namespace), never through an endpoint of a sandbox of its own.
   */
  async join(network: NetworkSpec): Promise<JoinInfo> {
    throw new InvalidOptionError(`network ${network.name} (driver ${this.type}) has no interface to give a sandbox: a container is on it only by running with --network ${network.name}`);
  }

  async leave(): Promise<void> {}

  /** No network of its own to publish on: the host driver's containers listen on the host directly. */
  async programExternalConnectivity(_network: NetworkSpec, _endpoint: unknown, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    if (ports.length > 0) throw new InvalidOptionError(`driver ${this.type} cannot publish ports: its containers have no network of their own`);
    return [];
  }

  async revokeExternalConnectivity(): Promise<void> {}

  async restore(): Promise<RestoreResult> {
    return { rejoin: [], failed: [] };
  }
}

export class NullDriver extends StatelessDriver {
  readonly type = 'null';
}
