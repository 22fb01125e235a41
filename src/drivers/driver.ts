// The contract between the CNM core and a network driver, after libnetwork's driverapi: the core
// owns names, IDs, IPAM and the store; a driver owns the kernel objects of its networks. The remote
// driver and the plugin server map this same contract onto the Docker plugin protocol, so no
// driver is special to the core.

export type Scope = 'local' | 'global';

export interface Capability {
  /** Where the driver's network state lives: this host's store, or the cluster's. */
  dataScope: Scope;
  /** Whether endpoints on different hosts reach each other directly. */
  connectivityScope: Scope;
}

/** One IPAM pool of a network as the core allocated it; addresses in CIDR form ("10.0.0.1/24"). */
export interface IpamData {
  addressSpace: string;
  pool: string;
  gateway?: string;
  auxAddresses: Record<string, string>;
}

/** What the core asks a driver to create: a network it already named, numbered and addressed. */
export interface NetworkSpec {
  id: string;
  name: string;
  /** Driver options (`-o`), validated by the driver. */
  options: Readonly<Record<string, string>>;
  internal: boolean;
  enableIPv6: boolean;
  ipv4: IpamData[];
  ipv6: IpamData[];
}

/** A port of a container published on the host (`-p [hostIp:]hostPort:containerPort[/protocol]`). */
export interface PortMapping {
  protocol: 'tcp' | 'udp' | 'sctp';
  /** Host address to listen on; every address when absent. */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
}

/** An endpoint as the core allocated it: its addresses in CIDR form, its MAC, its published ports. */
export interface EndpointSpec {
  id: string;
  networkId: string;
  mac: string;
  ipv4?: string;
  ipv6?: string;
  ports?: PortMapping[];
  /**
   * Where the endpoint's interface is, once joined: for drivers whose interface lives only in the
   * sandbox (macvlan), where to find it to take it away.
   */
  sandbox?: JoinTarget;
}

/**
 * Where a joining endpoint's interface goes: the sandbox's namespace and the name the core chose
 * there (eth0, eth1...). Drivers create the interface in place, with that name, in one request,
 * rather than creating it in the host, moving it and renaming it.
 */
export interface JoinTarget {
  sandboxKey: string;
  /**
   * The sandbox's namespace, open, for the duration of the join: drivers that create the
   * interface through netlink give it to the kernel instead of opening sandboxKey again.
   */
  sandboxFd?: number;
  ifname: string;
  /**
   * An index the interface can most likely have there (the core knows what it put in the
   * sandbox). A driver that asks the kernel for it and gets it reports it back as interfaceIndex;
   * when it is taken, the kernel's choice does as well.
   */
  preferredIndex?: number;
}

/** What a join tells the core: the gateways a default route may use (none on internal networks). */
export interface JoinInfo {
  gateway4?: string;
  gateway6?: string;
  /** The interface's index inside the sandbox, when the driver learnt it: saves the core a lookup. */
  interfaceIndex?: number;
  /** The interface's MAC when the kernel did not give it the endpoint's (macvlan passthru: the parent's own). */
  mac?: string;
}

export interface Driver {
  /** The name users pass to `-d` ("bridge"). */
  readonly type: string;
  readonly capability: Capability;
  /**
   * Whether the core allocates addresses for this driver's networks ("default" IPAM) or none
   * ("null" IPAM, as Docker's host and none networks).
   */
  readonly usesIpam: boolean;
  /**
   * Throws InvalidOptionError for options the driver does not know or cannot take, before the
   * core allocates anything, so a bad request leaves no trace.
   */
  validateOptions(options: Readonly<Record<string, string>>): void;
  /** The options as inspect shows them: the given ones plus the driver's defaults, if any. */
  effectiveOptions(spec: NetworkSpec): Record<string, string>;
  /** Creates the network's kernel objects; on failure removes whatever it made. */
  createNetwork(spec: NetworkSpec): Promise<void>;
  /** Removes the network's kernel objects; a network already partly gone is not an error. */
  deleteNetwork(spec: NetworkSpec): Promise<void>;
  /**
   * Puts the endpoint's interface into the sandbox as `target.ifname`, with the endpoint's MAC,
   * down and without addresses (the core configures them); on failure leaves nothing behind.
   */
  join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): Promise<JoinInfo>;
  /** Takes the endpoint's interface away; an interface already gone is not an error. */
  leave(network: NetworkSpec, endpoint: EndpointSpec): Promise<void>;
  /**
   * Publishes `endpoint.ports` on the host and resolves with them as published (a host port 0
   * becomes a free one). A port another endpoint or a host process holds is refused with
   * PortConflictError, and nothing changes; an empty list withdraws the endpoint's ports.
   */
  programExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec): Promise<PortMapping[]>;
  /**
   * At daemon start: make the kernel match `networks` (recreate what is missing) and remove the
   * driver's objects that belong to no network or endpoint, left by a crash between steps. A
   * network that cannot be brought back is reported, not thrown: the others must still work,
   * and its own objects are left as they are for its removal.
   */
  restore(networks: readonly NetworkSpec[], endpoints: readonly EndpointSpec[]): Promise<RestoreResult>;
}

export interface RestoreResult {
  /** Endpoints whose interface is gone, for the core to join again. */
  rejoin: string[];
  /** Networks the driver could not bring back, and why. */
  failed: Array<{ networkId: string; error: Error }>;
}

/** A published port another endpoint or a host process already holds. */
export class PortConflictError extends Error {
  override readonly name = 'PortConflictError';
}

/** A driver option the driver cannot take; the message says which and what is allowed. */
export class InvalidOptionError extends Error {
  override readonly name = 'InvalidOptionError';
}

/**
 * What the request asks for needs a kernel feature this machine lacks (the kernel refused the
 * link type with EOPNOTSUPP); the message names the feature.
 */
export class MissingKernelFeatureError extends InvalidOptionError {
  constructor(
    readonly feature: string,
    message: string,
  ) {
    super(message);
  }
}
