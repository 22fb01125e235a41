// One setup call for an engine that runs netctl in its own process: store, IPAM, netlink,
// drivers, embedded DNS and the controller, each replaceable, opened in the caller's network
// namespace. The daemon is built on it too (daemon/stack.ts adds the launcher).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Controller } from './controller';
import { DnsServer, Forwarder, NameTable, upstreamsOf } from './dns';
import { BridgeDriver } from './drivers/bridge/bridge-driver';
import type { Driver } from './drivers/driver';
import { HostDriver } from './drivers/host/host-driver';
import { MacvlanDriver } from './drivers/macvlan/macvlan-driver';
import { NullDriver } from './drivers/null/null-driver';
import { OverlayDriver } from './drivers/overlay/overlay-driver';
import type { PluginClientOptions } from './drivers/remote/client';
import type { DiscoveryRoots } from './drivers/remote/discovery';
import { PluginLookup } from './drivers/remote/lookup';
import { Firewall } from './firewall';
import { Ipam, type IpamDriver, type PoolTemplate } from './ipam';
import { VniAllocator } from './ipam/vni';
import { type Ownership, ownershipOf } from './kernel/ownership';
import { NetlinkHandle } from './netlink';
import { controllerIdentity } from './controller/identity';
import type { TablePublisher } from './controller/tables';
// The sqlite module itself: the store index would also load the etcd client's module.
import { LocalStore } from './store/sqlite';
// etcd's client loads with the first GlobalStore made, not with this module.
import { GlobalStore } from './store/etcd';
import type { Store } from './store/types';
import type { Logger } from './util/logger';

export const DEFAULT_EMBEDDED_STORE = '/var/lib/netctl-embedded/store.db';
export const DEFAULT_EMBEDDED_RUN_DIR = '/run/netctl-embedded';

export interface NetctlOptions {
  /**
   * The durable state: a SQLite file (made, with its directory, if missing; this process is its
   * only user while open) or a Store of the caller's, which the caller closes. Two controllers
   * never share one. Default /var/lib/netctl-embedded/store.db.
   */
  store?: string | Store;
  /** Where netctl makes the sandbox namespaces it owns (`<runDir>/netns`). Default /run/netctl-embedded. */
  runDir?: string;
  /** Drivers next to the built-in ones (bridge, macvlan, null, host); one of a built-in's type replaces it. */
  drivers?: readonly Driver[];
  /** false: only `drivers`. Default true. */
  builtInDrivers?: boolean;
  /** An IPAM of the caller's, which the caller closes; default: netctl's on the store, with `localPools`. */
  ipam?: IpamDriver;
  /** The local pools networks without a subnet get theirs from; default Docker's. */
  localPools?: readonly PoolTemplate[];
  /** Resolvers the embedded DNS (127.0.0.11 in every sandbox) forwards to; default the host's /etc/resolv.conf; false: no embedded DNS. */
  dns?: readonly string[] | false;
  /** Default: pino at level warn on stderr. */
  logger?: Logger;
  /**
   * The marks on the links, gateway addresses and chains this controller makes; default: its own,
   * from a number kept in its store, so an engine and the daemon on one host never remove each
   * other's objects. The daemon passes its own marks.
   */
  ownership?: Ownership;
  /** Where joins publish their drivers' table entries: a cluster's gossip (the daemon's cluster agent). Default: nowhere. */
  tables?: TablePublisher;
  /**
   * The cluster store: a Store of the caller's (which the caller closes) or etcd's client URLs
   * (and the key prefix, default '/netctl/'). Networks of global-scope drivers, their pools in the
   * GlobalDefault address space and their names live there, shared by every controller on it.
   * etcd need not answer at the start: global networks then show as this host last knew them.
   */
  globalStore?: Store | { endpoints: string[]; prefix?: string };
  /** This host's name in the cluster store (which hosts have endpoints on a network). Default os.hostname(). */
  nodeName?: string;
  /** This host's address on the underlay, which other hosts reach it at: with a cluster store, overlay networks use it as their VTEP. */
  advertiseAddress?: string;
  /**
   * Docker network and IPAM plugins for `-d NAME` / `--ipam-driver NAME` of no registered driver:
   * where they are looked for (default Docker's /run/docker/plugins, /etc/docker/plugins,
   * /usr/lib/docker/plugins) and how long calls wait; false: none.
   */
  plugins?: { roots?: DiscoveryRoots; client?: PluginClientOptions } | false;
}

export interface Netctl {
  controller: Controller;
  store: Store;
  /** The cluster store, when one was given. */
  globalStore?: Store;
  ipam: IpamDriver;
  /** The netlink handle of the caller's namespace, which the drivers program. */
  netlink: NetlinkHandle;
  log: Logger;
  /** Lets go of everything this call opened; networks, sandboxes and the kernel data plane stay. */
  close(): Promise<void>;
}

export async function createNetctl(options: NetctlOptions = {}): Promise<Netctl> {
  const log = options.logger ?? defaultLogger();
  const store = typeof options.store === 'object' ? options.store : openStore(options.store ?? DEFAULT_EMBEDDED_STORE);
  const dns = options.dns === false ? undefined : dnsServer(options.dns ?? []);
  const globalStore = options.globalStore === undefined ? undefined : isStore(options.globalStore) ? options.globalStore : new GlobalStore(options.globalStore);
  let ownIpam: Ipam | undefined;
  let netlink: NetlinkHandle | undefined;
  let controller: Controller | undefined;
  const plugins = options.plugins === false ? undefined : new PluginLookup({ ...(options.plugins ?? {}), log });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await controller?.close();
      await plugins?.close();
      dns?.server.closeAll();
      await ownIpam?.close();
      netlink?.close();
      if (store !== options.store) await store.close();
      if (globalStore && globalStore !== options.globalStore) await globalStore.close();
    })());
  try {
    const handle = (netlink = NetlinkHandle.open());
    const ownership = options.ownership ?? ownershipOf(await controllerIdentity(store, (identity) => marksInUse(handle, ownershipOf(identity))));
    const ipam = options.ipam ?? (ownIpam = await Ipam.open({ local: store, ...(globalStore ? { global: globalStore } : {}), ...(options.localPools && options.localPools.length > 0 ? { localPools: options.localPools } : {}) }));
    const builtIn: Driver[] = options.builtInDrivers === false ? [] : [new BridgeDriver({ netlink: handle, firewall: new Firewall({ chainPrefix: ownership.chainPrefix }), log, ownership }), new MacvlanDriver({ netlink: handle, log, ownership }), new NullDriver(), new HostDriver()];
    if (globalStore && options.advertiseAddress && options.builtInDrivers !== false) {
      const namespaceDir = path.join(options.runDir ?? DEFAULT_EMBEDDED_RUN_DIR, 'overlay');
      builtIn.push(new OverlayDriver({ netlink: handle, advertiseAddress: options.advertiseAddress, namespaceDir, vniAllocator: new VniAllocator(globalStore), log }));
    }
    const drivers = new Map([...builtIn, ...(options.drivers ?? [])].map((driver) => [driver.type, driver]));
    controller = await Controller.open({
      store,
      ipam,
      drivers: [...drivers.values()],
      log,
      netlink: handle,
      ownership,
      hostRoutes: async () => (await handle.routeList()).filter((r) => r.destination !== 'default').map((r) => r.destination),
      sandboxDir: path.join(options.runDir ?? DEFAULT_EMBEDDED_RUN_DIR, 'netns'),
      ...(dns ? { dns } : {}),
      ...(options.tables ? { tables: options.tables } : {}),
      ...(globalStore ? { cluster: { store: globalStore, node: options.nodeName ?? os.hostname() } } : {}),
      ...(plugins ? { plugins } : {}),
      // The gateway leg's network is a built-in bridge's.
      gatewayBridge: options.builtInDrivers !== false,
    });
    return { controller, store, ...(globalStore ? { globalStore } : {}), ipam, netlink: handle, log, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Whether another controller's links or addresses carry these marks (the chain prefix follows the link group). */
export async function marksInUse(netlink: NetlinkHandle, ownership: Ownership): Promise<boolean> {
  const [links, addresses] = await Promise.all([netlink.linkList(), netlink.addrList()]);
  return links.some((link) => link.group === ownership.linkGroup) || addresses.some((address) => address.protocol === ownership.addressProtocol);
}

const isStore = (value: Store | { endpoints: string[] }): value is Store => typeof (value as Store).watch === 'function';

function openStore(file: string): LocalStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  return new LocalStore(file, { exclusive: true });
}

function dnsServer(resolvers: readonly string[]): { server: DnsServer; names: NameTable } {
  const upstreams = resolvers.length > 0 ? resolvers.map((address) => ({ address, port: 53 })) : upstreamsOf(readResolvConf());
  const names = new NameTable();
  return { server: new DnsServer(names, new Forwarder(upstreams)), names };
}

/** The host's resolvers, which the embedded DNS forwards to (none: every forward is SERVFAIL). */
function readResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

function defaultLogger(): Logger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pino = require('pino') as typeof import('pino');
  return pino({ level: 'warn' }, pino.destination(2));
}
