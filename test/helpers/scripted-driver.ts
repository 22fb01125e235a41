// A network driver for tests of the core: every answer is programmable (script), every call is
// logged in order (calls), and any method can be made to fail once (failNext). It touches no
// kernel object itself; a test that needs interfaces scripts the join and leave that make them.
import type {
  Capability,
  Driver,
  EndpointProposal,
  EndpointSpec,
  JoinInfo,
  JoinTarget,
  NetworkContext,
  NetworkSpec,
  NodeEvent,
  PortMapping,
  RestoreResult,
  TableEvent,
} from '../../src/drivers/driver';

/** The answers a test can replace; each defaults to the plainest one the contract allows. */
export interface DriverScript {
  validateOptions(options: Readonly<Record<string, string>>): void | Promise<void>;
  interfacePrefix(network: NetworkSpec): string;
  createNetwork(network: NetworkSpec, context: NetworkContext): void | Promise<void>;
  deleteNetwork(network: NetworkSpec): void | Promise<void>;
  createEndpoint(network: NetworkSpec, endpoint: EndpointSpec): EndpointProposal | Promise<EndpointProposal>;
  deleteEndpoint(network: NetworkSpec, endpoint: EndpointSpec): void | Promise<void>;
  endpointInfo(network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown>;
  join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): JoinInfo | Promise<JoinInfo>;
  leave(network: NetworkSpec, endpoint: EndpointSpec): void | Promise<void>;
  programExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec, ports: readonly PortMapping[]): PortMapping[] | Promise<PortMapping[]>;
  revokeExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec): void | Promise<void>;
  restore(networks: readonly NetworkSpec[], endpoints: readonly EndpointSpec[], contextOf: (networkId: string) => NetworkContext): RestoreResult | Promise<RestoreResult>;
  discoverNew(event: NodeEvent): void | Promise<void>;
  discoverDelete(event: NodeEvent): void | Promise<void>;
  eventNotify(event: TableEvent): void | Promise<void>;
}

/** The methods the log records (endpointInfo and interfacePrefix are questions, not steps). */
export type DriverMethod = Exclude<keyof DriverScript, 'endpointInfo' | 'interfacePrefix'>;

export interface DriverCall {
  method: DriverMethod;
  args: unknown[];
}

const DEFAULT_SCRIPT: DriverScript = {
  validateOptions: () => {},
  interfacePrefix: () => 'eth',
  createNetwork: () => {},
  deleteNetwork: () => {},
  createEndpoint: () => ({}),
  deleteEndpoint: () => {},
  endpointInfo: () => ({}),
  join: () => ({}),
  leave: () => {},
  // A driver with port details publishes what it was asked to.
  programExternalConnectivity: (_network, _endpoint, ports) => [...ports],
  revokeExternalConnectivity: () => {},
  restore: () => ({ rejoin: [], failed: [] }),
  discoverNew: () => {},
  discoverDelete: () => {},
  eventNotify: () => {},
};

export class ScriptedFailure extends Error {
  override readonly name = 'ScriptedFailure';
}

export interface ScriptedDriverOptions {
  type?: string;
  usesIpam?: boolean;
  capability?: Partial<Capability>;
  script?: Partial<DriverScript>;
}

export class ScriptedDriver implements Driver {
  readonly type: string;
  readonly usesIpam: boolean;
  readonly capability: Capability;
  readonly calls: DriverCall[] = [];
  /** Left out unless a test gives it: a driver whose entries carry no name has none. */
  renamedEntry?: (table: string, value: Buffer, name: string) => Buffer | undefined;
  /** The answers in use: assign to a method to change what the driver says from now on. */
  readonly script: DriverScript;
  private readonly failures = new Map<DriverMethod, Error>();

  constructor(options: ScriptedDriverOptions = {}) {
    this.type = options.type ?? 'scripted';
    this.usesIpam = options.usesIpam ?? true;
    this.capability = { dataScope: 'local', connectivityScope: 'local', createsInSandbox: false, ...options.capability };
    this.script = { ...DEFAULT_SCRIPT, ...options.script };
  }

  /** The next call of `method` throws `error` (a ScriptedFailure naming the method by default) instead of answering. */
  failNext(method: DriverMethod, error: Error = new ScriptedFailure(`scripted failure of ${method}`)): void {
    this.failures.set(method, error);
  }

  /** Forgets the calls logged so far (the restore a controller's open makes, say). */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** The logged calls of one method, in order. */
  callsOf(method: DriverMethod): DriverCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The logged method names, in order; `only` keeps those of interest. */
  sequence(only?: readonly DriverMethod[]): DriverMethod[] {
    return this.calls.map((call) => call.method).filter((method) => !only || only.includes(method));
  }

  private async run<T>(method: DriverMethod, args: unknown[], answer: () => T | Promise<T>): Promise<T> {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
    return answer();
  }

  validateOptions(options: Readonly<Record<string, string>>): Promise<void> {
    return this.run('validateOptions', [options], () => this.script.validateOptions(options));
  }

  effectiveOptions(network: NetworkSpec): Record<string, string> {
    return { ...network.options };
  }

  interfacePrefix(network: NetworkSpec): string {
    return this.script.interfacePrefix(network);
  }

  createNetwork(network: NetworkSpec, context: NetworkContext): Promise<void> {
    return this.run('createNetwork', [network, context], () => this.script.createNetwork(network, context));
  }

  deleteNetwork(network: NetworkSpec): Promise<void> {
    return this.run('deleteNetwork', [network], () => this.script.deleteNetwork(network));
  }

  createEndpoint(network: NetworkSpec, endpoint: EndpointSpec): Promise<EndpointProposal> {
    return this.run('createEndpoint', [network, endpoint], () => this.script.createEndpoint(network, endpoint));
  }

  deleteEndpoint(network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    return this.run('deleteEndpoint', [network, endpoint], () => this.script.deleteEndpoint(network, endpoint));
  }

  endpointInfo(network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown> {
    return this.script.endpointInfo(network, endpoint);
  }

  join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): Promise<JoinInfo> {
    return this.run('join', [network, endpoint, target], () => this.script.join(network, endpoint, target));
  }

  leave(network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    return this.run('leave', [network, endpoint], () => this.script.leave(network, endpoint));
  }

  programExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec, ports: readonly PortMapping[]): Promise<PortMapping[]> {
    return this.run('programExternalConnectivity', [network, endpoint, ports], () => this.script.programExternalConnectivity(network, endpoint, ports));
  }

  revokeExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec): Promise<void> {
    return this.run('revokeExternalConnectivity', [network, endpoint], () => this.script.revokeExternalConnectivity(network, endpoint));
  }

  restore(networks: readonly NetworkSpec[], endpoints: readonly EndpointSpec[], contextOf: (networkId: string) => NetworkContext): Promise<RestoreResult> {
    return this.run('restore', [networks, endpoints, contextOf], () => this.script.restore(networks, endpoints, contextOf));
  }

  discoverNew(event: NodeEvent): Promise<void> {
    return this.run('discoverNew', [event], () => this.script.discoverNew(event));
  }

  discoverDelete(event: NodeEvent): Promise<void> {
    return this.run('discoverDelete', [event], () => this.script.discoverDelete(event));
  }

  eventNotify(event: TableEvent): Promise<void> {
    return this.run('eventNotify', [event], () => this.script.eventNotify(event));
  }
}
