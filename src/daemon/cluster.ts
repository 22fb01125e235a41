// A daemon's cluster parts, opened before its stack and closed after it: the advertise address
// checked, the embedded etcd (if asked for), the global store and the cluster agent.
import { ClusterAgent } from '../cluster/agent';
import { DEFAULT_ETCD_CLIENT_PORT } from '../cluster/config';
import { NetlinkHandle } from '../netlink';
import { GlobalStore } from '../store/etcd';
import type { Logger } from '../util/logger';
import { resolveAdvertiseAddress } from './advertise';
import { EmbeddedEtcd } from './embedded-etcd';
import type { ClusterOptions } from './options';

export interface DaemonCluster {
  agent: ClusterAgent;
  /** The advertise address, resolved: gossip binds it and overlay networks use it as their VTEP. */
  advertiseAddress: string;
  globalStore: GlobalStore;
  /** Leaves the cluster, closes the store, stops the embedded etcd. */
  close(): Promise<void>;
}

export async function openCluster(options: ClusterOptions, root: string, log: Logger): Promise<DaemonCluster> {
  const netlink = NetlinkHandle.open();
  let address: string;
  try {
    address = await resolveAdvertiseAddress(options.advertise, netlink);
  } finally {
    netlink.close();
  }
  const etcd = options.store.kind === 'embedded' ? await EmbeddedEtcd.start({ root, name: options.nodeName, address, log }) : undefined;
  let globalStore: GlobalStore | undefined;
  let agent: ClusterAgent | undefined;
  const close = async (): Promise<void> => {
    await agent?.stop();
    await globalStore?.close();
    await etcd?.stop();
  };
  try {
    const endpoints = etcd ? [etcd.endpoint] : options.store.kind === 'etcd' ? options.store.endpoints : [];
    globalStore = new GlobalStore({ endpoints });
    agent = await ClusterAgent.open({ nodeName: options.nodeName, advertiseAddress: address, gossipPort: options.gossipPort, ...(options.key ? { key: options.key } : {}), store: globalStore, storeEndpoints: endpoints, log });
    if (etcd) {
      const join = `netctl daemon --cluster-store etcd://${address}:${DEFAULT_ETCD_CLIENT_PORT} --advertise-addr THEIR-IP${options.key ? ' --gossip-key FILE-WITH-THE-SAME-KEY' : ''}`;
      log.info({ join }, `embedded etcd serves the cluster; start the other hosts with: ${join}`);
    }
    return { agent, globalStore, advertiseAddress: address, close };
  } catch (error) {
    await close();
    throw error;
  }
}
