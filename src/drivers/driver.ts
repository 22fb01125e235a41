// The contract between the CNM core and a network driver, after libnetwork's driverapi: the core
// owns names, IDs, IPAM, sandboxes and the store; a driver owns the kernel objects of its
// networks. The remote driver and the plugin server map this same contract onto the Docker
// plugin protocol, so no driver is special to the core.
import type { StaticRoute } from '../sandbox';

export type { StaticRoute };

export type Scope = 'local' | 'global';

export interface Capability {
  /** Where the driver's network state lives: this host's store, or the cluster's. */
  dataScope: Scope;
  /** Whether endpoints on different hosts reach each other directly. */
  connectivityScope: Scope;
  /**
   * Whether the driver makes the interface directly inside the sandbox (JoinTarget says where and
   * under which name): the in-process fast path. Otherwise it hands over an interface by name
   * (JoinInterface.srcName) for the core to move in.
   */
  createsInSandbox: boolean;
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

/** What createNetwork may use besides the network: the cluster's tables it wants entries of. */
export interface NetworkContext {
  /**
   * Asks for the entries other hosts publish in `table` for this network: they arrive through
   * eventNotify. Tables are scoped to their network.
   */
  registerTable(table: string): void;
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
  /** The names the embedded DNS answers for it (the container's name, then its aliases), for drivers that publish them. */
  name?: string;
  aliases?: string[];
  mac: string;
  ipv4?: string;
  ipv6?: string;
  ports?: PortMapping[];
  /**
   * Where the endpoint's interface is, once joined: for drivers whose interface lives only in the
   * sandbox (macvlan), where to find it to take it away.
   */
  sandbox?: { sandboxKey: string; ifname: string };
}

/**
 * What a driver may propose at createEndpoint for what the core left empty (libnetwork's rule:
 * an address the IPAM gave is kept): a MAC, or addresses when the IPAM handed out none.
 */
export interface EndpointProposal {
  mac?: string;
  ipv4?: string;
  ipv6?: string;
}

/**
 * Where a joining endpoint's interface goes, for drivers that make it in place: the sandbox's
 * namespace and the name the core chose there (the driver's prefix and the next free index).
 */
export interface JoinTarget {
  sandboxKey: string;
  /** The sandbox's namespace, open for the duration of the join: give it to the kernel rather than open sandboxKey again. */
  sandboxFd?: number;
  ifname: string;
  /**
   * An index the interface can most likely have there (the core knows what it put in the
   * sandbox). A driver that asks the kernel for it and gets it reports it back; when it is
   * taken, the kernel's choice does as well.
   */
  preferredIndex?: number;
}

/** The interface a join gives the sandbox. */
export type JoinInterface =
  /** Made in the sandbox as JoinTarget.ifname; its index there when the driver learnt it (saves the core a lookup). */
  | { inSandbox: true; index?: number }
  /**
   * An interface of the host's namespace named `srcName`, which the core moves into the sandbox
   * and names `dstPrefix` + the next free index (Docker's InterfaceName{SrcName, DstPrefix}).
   */
  | { srcName: string; dstPrefix: string };


/** An entry a join publishes in a cluster table of the network, withdrawn when the endpoint leaves. */
export interface TableEntry {
  table: string;
  key: string;
  value: Buffer;
}

/** What a join tells the core. */
export interface JoinInfo {
  /** None for drivers with no interface of their own (null, host). */
  interface?: JoinInterface;
  /** The gateways a default route may use (none on internal networks). */
  gateway4?: string;
  gateway6?: string;
  staticRoutes?: StaticRoute[];
  /** This endpoint never carries the sandbox's default route, even when it is the first with a gateway. */
  disableGatewayService?: boolean;
  tableEntries?: TableEntry[];
  /** The interface's MAC when the kernel did not give it the endpoint's (macvlan passthru: the parent's own). */
  mac?: string;
}

/** A host of the cluster joining or leaving (libnetwork's discovery events). */
export interface NodeEvent {
  /** The node's address, as other hosts reach it. */
  address: string;
  /** This host itself. */
  self: boolean;
}

/** An entry another host published, created, updated or deleted, in a table the driver registered. */
export interface TableEvent {
  type: 'create' | 'update' | 'delete';
  networkId: string;
  table: string;
  key: string;
  value: Buffer;
}

/** A remote endpoint as a table entry names it, for the embedded DNS. */
export interface PublishedNames {
  name: string;
  aliases: readonly string[];
  /** Bare addresses ("10.0.0.2"). */
  ipv4?: string;
  ipv6?: string;
}

export interface Driver {
  /** The name users pass to `-d` ("bridge"). */
  readonly type: string;
  readonly capability: Capability;
  /**
   * Whether the core allocates addresses for this driver's networks, or none at all (libnetwork's
   * special drivers: Docker's host and none networks).
   */
  readonly usesIpam: boolean;
  /**
   * Throws InvalidOptionError for options the driver does not know or cannot take, before the
   * core allocates anything, so a bad request leaves no trace. May ask elsewhere (a plugin).
   */
  validateOptions(options: Readonly<Record<string, string>>): Promise<void> | void;
  /** The options as inspect shows them: the given ones plus the driver's defaults, if any. */
  effectiveOptions(spec: NetworkSpec): Record<string, string>;
  /** The prefix of the interfaces the driver makes in place ("eth" unless the network says otherwise). */
  interfacePrefix(network: NetworkSpec): string;
  /** Creates the network's kernel objects; on failure removes whatever it made. */
  createNetwork(network: NetworkSpec, context: NetworkContext): Promise<void>;
  /** Removes the network's kernel objects; a network already partly gone is not an error. */
  deleteNetwork(network: NetworkSpec): Promise<void>;
  /** An endpoint the core has addressed: the driver may fill what was left empty. */
  createEndpoint(network: NetworkSpec, endpoint: EndpointSpec): Promise<EndpointProposal>;
  /** The endpoint is gone from the core (after its leave); an endpoint already gone is not an error. */
  deleteEndpoint(network: NetworkSpec, endpoint: EndpointSpec): Promise<void>;
  /** What the driver knows of the endpoint, for inspect (libnetwork's EndpointOperInfo). */
  endpointInfo(network: NetworkSpec, endpoint: EndpointSpec): Record<string, unknown>;
  /**
   * Gives the endpoint an interface in the sandbox: made in place as `target.ifname` with the
   * endpoint's MAC, down and without addresses (the core configures them), or handed over by
   * name. On failure leaves nothing behind.
   */
  join(network: NetworkSpec, endpoint: EndpointSpec, target: JoinTarget): Promise<JoinInfo>;
  /** Takes the endpoint's interface away; an interface already gone is not an error. */
  leave(network: NetworkSpec, endpoint: EndpointSpec): Promise<void>;
  /**
   * Publishes `ports` for the endpoint on the host and resolves with them as published (a host
   * port 0 becomes a free one), replacing what it published before; a driver without port
   * details resolves with none. A port another endpoint or a host process holds is refused with
   * PortConflictError, and nothing changes.
   */
  programExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec, ports: readonly PortMapping[]): Promise<PortMapping[]>;
  /** Withdraws what programExternalConnectivity published for the endpoint. */
  revokeExternalConnectivity(network: NetworkSpec, endpoint: EndpointSpec): Promise<void>;
  /** Another host joined the cluster (or this one did: `self`). */
  discoverNew?(event: NodeEvent): Promise<void>;
  /** A host left the cluster or was declared dead. */
  discoverDelete?(event: NodeEvent): Promise<void>;
  /** An entry of a table the driver registered for a network changed on another host. */
  eventNotify?(event: TableEvent): Promise<void>;
  /** Table entries it refused since it started (the overlay's: entries naming a VTEP outside the cluster). */
  readonly ignoredEntries?: number;
  /**
   * The names an entry of one of its tables carries (another host's endpoint), which the core's
   * embedded DNS answers on that network; undefined for an entry that names nothing. Throws for
   * a value it cannot read.
   */
  namesIn?(table: string, value: Buffer): PublishedNames | undefined;
  /**
   * An entry its join published, as it reads once the endpoint is named `name` (a container's
   * rename), so that other hosts' DNS follows; undefined when the entry carries no name.
   */
  renamedEntry?(table: string, value: Buffer, name: string): Buffer | undefined;
  /**
   * At daemon start: make the kernel match `networks` (recreate what is missing) and remove the
   * driver's objects that belong to no network or endpoint, left by a crash between steps. A
   * network that cannot be brought back is reported, not thrown: the others must still work,
   * and its own objects are left as they are for its removal. `contextOf` gives each network's
   * context, for what createNetwork registered.
   */
  restore(networks: readonly NetworkSpec[], endpoints: readonly EndpointSpec[], contextOf: (networkId: string) => NetworkContext): Promise<RestoreResult>;
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
