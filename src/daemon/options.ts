// The daemon's settings, with the defaults DESIGN.md names.
import type { ClusterStoreSpec } from '../cluster/config';

/** A daemon in a cluster: where members find each other and how this one is reached. */
export interface ClusterOptions {
  store: ClusterStoreSpec;
  /** An IP of this host or an interface name (its first IPv4), resolved at start. */
  advertise: string;
  gossipPort: number;
  /** The gossip key; none: gossip is unencrypted. */
  key?: Buffer;
  /** Unique in the cluster; default the hostname. */
  nodeName: string;
}

export interface DaemonOptions {
  /** Durable state: the local store, per-container files, rootfs. */
  root: string;
  /** Runtime state: the API socket, named namespaces. Gone at reboot, as the kernel state is. */
  runDir: string;
  /** Where the API listens: unix:///path.sock. */
  host: string;
  /** '' (default bridge network) or 'none' (no default network). */
  bridge: string;
  /** Repeated --default-address-pool values, raw "base=CIDR,size=N" strings. */
  defaultAddressPools: string[];
  /** --dns: the resolvers the embedded DNS forwards to; empty means the host's /etc/resolv.conf. */
  dns: string[];
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** Absent: a daemon on its own. */
  cluster?: ClusterOptions;
  /** --docker-plugin: the socket it also serves Docker's plugin protocol on. */
  dockerPluginSocket?: string;
}

export const DEFAULT_ROOT = '/var/lib/netctl';
export const DEFAULT_RUN_DIR = '/run/netctl';
export const DEFAULT_HOST = `unix://${DEFAULT_RUN_DIR}/netctl.sock`;

export function defaultOptions(): DaemonOptions {
  return { root: DEFAULT_ROOT, runDir: DEFAULT_RUN_DIR, host: DEFAULT_HOST, bridge: '', defaultAddressPools: [], dns: [], logLevel: 'info' };
}

/** The socket path of a unix:// host address; other schemes are refused with the reason. */
export function unixSocketPath(host: string): string {
  if (!host.startsWith('unix://')) {
    throw new Error(`unsupported host "${host}": netctl listens only on unix sockets, e.g. unix:///run/netctl/netctl.sock`);
  }
  const socketPath = host.slice('unix://'.length);
  if (!socketPath.startsWith('/')) throw new Error(`host "${host}" must name an absolute socket path`);
  return socketPath;
}
