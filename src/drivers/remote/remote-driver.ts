// A network driver reached over Docker's plugin protocol (libnetwork's remote driver): each call
// of the contract is one NetworkDriver.* call. The plugin keeps its own state; the core keeps the
// networks, addresses and sandboxes and moves the interface the plugin names into the sandbox.
import type { Capability, Driver, EndpointProposal, EndpointSpec, JoinInfo, JoinTarget, NetworkSpec, NodeEvent, PortMapping, RestoreResult } from '../driver';
import type { Logger } from '../../util/logger';
import { PluginError } from './client';
import { decodeCapabilities, decodeCreateEndpoint, decodeJoin, decodeOperInfo, encodeCreateEndpoint, encodeCreateNetwork, encodeEndpointRef, encodeJoin, encodeProgramExternalConnectivity } from './codec';
import type { Plugin } from './plugin';

const ignore = (): void => {};

export class RemoteDriver implements Driver {
  readonly usesIpam = true;
  /** EndpointOperInfo's answers, asked after each join: inspect reads them synchronously. */
  private readonly operInfo = new Map<string, Record<string, unknown>>();

  private constructor(
    private readonly plugin: Plugin,
    readonly capability: Capability,
    private readonly log: Logger,
  ) {}

  get type(): string {
    return this.plugin.name;
  }

  /** Registration, as Docker's: the plugin's capabilities decide its scope. */
  static async create(plugin: Plugin, log: Logger): Promise<RemoteDriver> {
    const capability = await plugin.call('NetworkDriver.GetCapabilities', undefined, decodeCapabilities);
    return new RemoteDriver(plugin, capability, log);
  }

  // The plugin judges its options itself, at CreateNetwork.
  validateOptions(): void {}

  effectiveOptions(spec: NetworkSpec): Record<string, string> {
    return { ...spec.options };
  }

  interfacePrefix(): string {
    return 'eth';
  }

  async createNetwork(network: NetworkSpec): Promise<void> {
    await this.plugin.call('NetworkDriver.CreateNetwork', encodeCreateNetwork(network), ignore);
  }

  /** As Docker's: the plugin's failure is logged and the network goes all the same (the plugin may be gone for good). */
  async deleteNetwork(network: NetworkSpec): Promise<void> {
    await this.plugin.call('NetworkDriver.DeleteNetwork', { NetworkID: network.id }, ignore).catch((error: unknown) => {
      if (!(error instanceof PluginError)) throw error;
      this.log.warn({ err: error, network: network.id }, `driver error deleting network ${network.name}: ${error.message}`);
    });
  }

  async createEndpoint(network: NetworkSpec, endpoint: EndpointSpec): Promise<EndpointProposal> {
    const answer = await this.plugin.call('NetworkDriver.CreateEndpoint', encodeCreateEndpoint(endpoint), (body) => body);
    try {
      return decodeCreateEndpoint(answer, endpoint);
    } catch (error) {
      // The plugin made the endpoint: it goes again, as Docker rolls back.
      await this.deleteEndpoint(network, endpoint).catch((rollbackError: unknown) => this.log.warn({ err: rollbackError, endpoint: endpoint.id }, `plugin ${this.type}: DeleteEndpoint after a bad CreateEndpoint answer failed`));
      throw new PluginError(`plugin "${this.type}" answered NetworkDriver.CreateEndpoint wrongly: ${(error as Error).message}; rolled back`, this.type, 'NetworkDriver.CreateEndpoint', 200);
    }
  }

  async deleteEndpoint(_network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    this.operInfo.delete(endpoint.id);
    await this.plugin.call('NetworkDriver.DeleteEndpoint', encodeEndpointRef(endpoint), ignore);
  }

  endpointInfo(_network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown> {
    return this.operInfo.get(endpoint.id) ?? {};
  }

  async join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): Promise<JoinInfo> {
    const answer = await this.plugin.call('NetworkDriver.Join', encodeJoin(endpoint, target.sandboxKey), (body) => body);
    let info: JoinInfo;
    try {
      info = decodeJoin(answer);
    } catch (error) {
      await this.leave(network, endpoint).catch((rollbackError: unknown) => this.log.warn({ err: rollbackError, endpoint: endpoint.id }, `plugin ${this.type}: Leave after a bad Join answer failed`));
      throw new PluginError(`plugin "${this.type}" answered NetworkDriver.Join wrongly: ${(error as Error).message}; rolled back`, this.type, 'NetworkDriver.Join', 200);
    }
    await this.plugin
      .call('NetworkDriver.EndpointOperInfo', encodeEndpointRef(endpoint), decodeOperInfo)
      .then((value) => this.operInfo.set(endpoint.id, value))
      .catch((error: unknown) => this.log.debug({ err: error, endpoint: endpoint.id }, `plugin ${this.type}: no EndpointOperInfo`));
    return info;
  }

  async leave(_network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    await this.plugin.call('NetworkDriver.Leave', encodeEndpointRef(endpoint), ignore);
  }

  async programExternalConnectivity(_network: NetworkSpec, endpoint: EndpointSpec, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    await this.optional('NetworkDriver.ProgramExternalConnectivity', encodeProgramExternalConnectivity(endpoint, ports));
    // The plugin publishes the ports its own way and tells nothing back.
    return [];
  }

  async revokeExternalConnectivity(_network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    await this.optional('NetworkDriver.RevokeExternalConnectivity', encodeEndpointRef(endpoint));
  }

  async discoverNew(event: NodeEvent): Promise<void> {
    await this.optional('NetworkDriver.DiscoverNew', discovery(event));
  }

  async discoverDelete(event: NodeEvent): Promise<void> {
    await this.optional('NetworkDriver.DiscoverDelete', discovery(event));
  }

  /** The plugin keeps its networks and endpoints itself, across netctl's restarts. */
  async restore(): Promise<RestoreResult> {
    return { rejoin: [], failed: [] };
  }

  /** A call Docker lets a plugin leave out: a 404 answer is no error. */
  private async optional(method: string, body: unknown): Promise<void> {
    try {
      await this.plugin.call(method, body, ignore);
    } catch (error) {
      if (!(error instanceof PluginError && error.notImplemented)) throw error;
    }
  }
}

/** DiscoveryType 1: a node (the only kind Docker forwards to remote drivers). */
const discovery = (event: NodeEvent): Record<string, unknown> => ({ DiscoveryType: 1, DiscoveryData: { Address: event.address, BindAddress: event.address, Self: event.self } });
