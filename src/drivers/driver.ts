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
   * At daemon start: make the kernel match `networks` (recreate what is missing) and remove the
   * driver's objects that belong to no network, left by a crash between steps.
   */
  restore(networks: readonly NetworkSpec[]): Promise<void>;
}

/** A driver option the driver cannot take; the message says which and what is allowed. */
export class InvalidOptionError extends Error {
  override readonly name = 'InvalidOptionError';
}
