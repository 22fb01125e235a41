// The layers a daemon runs on, wired together: local store, IPAM, netlink, firewall, drivers, the
// controller and the container launcher, opened in the caller's network namespace. Closing leaves
// the kernel data plane, and the containers, as they are.
import path from 'node:path';
import type pino from 'pino';
import fs from 'node:fs';
import { Controller } from '../controller';
import { DnsServer, Forwarder, NameTable, upstreamsOf } from '../dns';
import { BridgeDriver } from '../drivers/bridge/bridge-driver';
import { HostDriver } from '../drivers/host/host-driver';
import { MacvlanDriver } from '../drivers/macvlan/macvlan-driver';
import { NullDriver } from '../drivers/null/null-driver';
import { Firewall } from '../firewall';
import { Ipam, type PoolTemplate } from '../ipam';
import { DAEMON_OWNERSHIP, type Ownership } from '../kernel/ownership';
import { Launcher } from '../launcher';
import { NetlinkHandle } from '../netlink';
// The sqlite module directly: the store index also loads etcd's client (~18 MB), which a daemon
// without a global store never needs.
import { LocalStore } from '../store/sqlite';

export interface StackOptions {
  /** Holds the store (store.db). */
  root: string;
  /** Holds sandbox namespaces (netns/). */
  runDir: string;
  localPools?: PoolTemplate[];
  /** Resolvers the embedded DNS forwards to; default: the host's /etc/resolv.conf. */
  dns?: string[];
  log: pino.Logger;
  /** The marks on the links, addresses and chains it makes: the daemon's when absent, an embedder's own (ownershipOf(controllerIdentity(store))) when it shares the host with the daemon. */
  ownership?: Ownership;
}

export interface Stack {
  controller: Controller;
  launcher: Launcher;
  close(): Promise<void>;
}

export async function openStack(options: StackOptions): Promise<Stack> {
  // The daemon's pidfile makes it the root's only user.
  const store = new LocalStore(path.join(options.root, 'store.db'), { exclusive: true });
  let ipam: Ipam | undefined;
  let netlink: NetlinkHandle | undefined;
  let launcher: Launcher | undefined;
  let controller: Controller | undefined;
  const names = new NameTable();
  const upstreams = options.dns && options.dns.length > 0 ? options.dns.map((address) => ({ address, port: 53 })) : upstreamsOf(readResolvConf());
  const dns = new DnsServer(names, new Forwarder(upstreams));
  const close = async (): Promise<void> => {
    launcher?.close();
    controller?.close();
    dns.closeAll();
    await ipam?.close();
    netlink?.close();
    await store.close();
  };
  try {
    ipam = await Ipam.open({ local: store, ...(options.localPools && options.localPools.length > 0 ? { localPools: options.localPools } : {}) });
    const handle = (netlink = NetlinkHandle.open());
    const ownership = options.ownership ?? DAEMON_OWNERSHIP;
    const firewall = new Firewall({ chainPrefix: ownership.chainPrefix });
    controller = await Controller.open({
      store,
      ipam,
      drivers: [new BridgeDriver({ netlink: handle, firewall, ownership, log: options.log }), new MacvlanDriver({ netlink: handle, ownership, log: options.log }), new NullDriver(), new HostDriver()],
      ownership,
      log: options.log,
      netlink: handle,
      hostRoutes: async () => (await handle.routeList()).filter((r) => r.destination !== 'default').map((r) => r.destination),
      sandboxDir: path.join(options.runDir, 'netns'),
      dns: { server: dns, names },
    });
    launcher = new Launcher({ store, networking: controller, log: options.log, root: options.root });
    await launcher.load();
    return { controller, launcher, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The host's resolvers, which the embedded DNS forwards to (none: every forward is SERVFAIL). */
function readResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
