// The daemon's cluster flags into ClusterOptions: both of --cluster-store and --advertise-addr or
// neither, the others only with them, and the key file read and checked here so a bad one stops
// the daemon before it starts.
import fs from 'node:fs';
import os from 'node:os';
import { checkNodeName, ClusterConfigError, DEFAULT_GOSSIP_PORT, parseClusterStore, parseGossipKey, parseGossipPort } from '../cluster/config';
import type { ClusterOptions } from '../daemon/options';
import { UsageError } from './args';

export const CLUSTER_FLAGS = ['cluster-store', 'advertise-addr', 'gossip-port', 'gossip-key', 'node-name'] as const;
export type ClusterFlags = Partial<Record<(typeof CLUSTER_FLAGS)[number], string>>;

const ONLY_WITH_CLUSTER = ['gossip-port', 'gossip-key', 'node-name'] as const;

/** undefined: no cluster. `readFile` and `hostname` are injectable for tests. */
export function parseClusterFlags(flags: ClusterFlags, readFile: (file: string) => Buffer = fs.readFileSync, hostname: () => string = os.hostname): ClusterOptions | undefined {
  const store = flags['cluster-store'];
  const advertise = flags['advertise-addr'];
  if (store === undefined && advertise === undefined) {
    const stray = ONLY_WITH_CLUSTER.find((name) => flags[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs a cluster: give --cluster-store and --advertise-addr too`);
    return undefined;
  }
  if (store === undefined) throw new UsageError('--advertise-addr needs --cluster-store: give --cluster-store etcd://HOST:PORT (or "embedded" on the first host)');
  if (advertise === undefined) throw new UsageError('--cluster-store needs --advertise-addr: give the IP address (or interface) other hosts reach this one at');
  try {
    const keyFile = flags['gossip-key'];
    let key: Buffer | undefined;
    if (keyFile !== undefined) {
      let content: Buffer;
      try {
        content = readFile(keyFile);
      } catch (error) {
        throw new ClusterConfigError(`cannot read --gossip-key ${keyFile}: ${(error as Error).message}`);
      }
      key = parseGossipKey(content, keyFile);
    }
    return {
      store: parseClusterStore(store),
      advertise,
      gossipPort: flags['gossip-port'] === undefined ? DEFAULT_GOSSIP_PORT : parseGossipPort(flags['gossip-port']),
      nodeName: checkNodeName(flags['node-name'] ?? hostname()),
      ...(key ? { key } : {}),
    };
  } catch (error) {
    if (error instanceof ClusterConfigError) throw new UsageError(error.message);
    throw error;
  }
}
