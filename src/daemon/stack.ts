// The layers a daemon runs on: netctl as an embedder gets it (see embed.ts) on the daemon's root
// and run dir, plus the container launcher, opened in the caller's network namespace. Closing
// leaves the kernel data plane, and the containers, as they are.
import path from 'node:path';
import type { Logger } from '../util/logger';
import type { Controller, TablePublisher } from '../controller';
import { createNetctl } from '../embed';
import { pluginSettings } from './plugin-settings';
import type { PoolTemplate } from '../ipam';
import { DAEMON_OWNERSHIP, type Ownership } from '../kernel/ownership';
import type { EventSink } from '../events/bus';
import { Launcher } from '../launcher';
import type { GlobalStore } from '../store/etcd';

export interface StackOptions {
  /** Holds the store (store.db). */
  root: string;
  /** Holds sandbox namespaces (netns/). */
  runDir: string;
  localPools?: PoolTemplate[];
  /** Resolvers the embedded DNS forwards to; default: the host's /etc/resolv.conf. */
  dns?: string[];
  log: Logger;
  /** The marks on the links, addresses and chains it makes: the daemon's when absent (tests give another controller's). */
  ownership?: Ownership;
  /** A cluster's shared store (etcd), which the caller opened and closes, and this host's name in it. */
  globalStore?: GlobalStore;
  nodeName?: string;
  /** The cluster's advertise address: overlay networks' VTEP. */
  advertiseAddress?: string;
  /** A cluster's gossip tables, where joins publish their entries. */
  tables?: TablePublisher;
  /** Where the launcher's container events go. */
  events?: EventSink;
}

export interface Stack {
  controller: Controller;
  launcher: Launcher;
  globalStore?: GlobalStore;
  close(): Promise<void>;
}

export async function openStack(options: StackOptions): Promise<Stack> {
  // The daemon's pidfile makes it the root's only user.
  const netctl = await createNetctl({
    store: path.join(options.root, 'store.db'),
    runDir: options.runDir,
    ...(options.localPools ? { localPools: options.localPools } : {}),
    ...(options.dns ? { dns: options.dns } : {}),
    logger: options.log,
    ownership: options.ownership ?? DAEMON_OWNERSHIP,
    ...(options.tables ? { tables: options.tables } : {}),
    ...(options.globalStore ? { globalStore: options.globalStore, ...(options.nodeName ? { nodeName: options.nodeName } : {}), ...(options.advertiseAddress ? { advertiseAddress: options.advertiseAddress } : {}) } : {}),
    plugins: pluginSettings(process.env),
  });
  let launcher: Launcher | undefined;
  const close = async (): Promise<void> => {
    launcher?.close();
    await netctl.close();
  };
  try {
    launcher = new Launcher({ store: netctl.store, networking: netctl.controller, log: options.log, root: options.root, ...(options.events ? { events: options.events } : {}) });
    await launcher.load();
  } catch (error) {
    await close();
    throw error;
  }
  return { controller: netctl.controller, launcher, ...(options.globalStore ? { globalStore: options.globalStore } : {}), close };
}
