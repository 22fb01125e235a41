// `netctl daemon --docker-plugin NAME`: netctl's bridge and macvlan drivers and its IPAM served to
// a Docker engine over Docker's plugin protocol on /run/docker/plugins/NAME.sock. Its networks
// are Docker's, not netctl's: they have their own store (docker-plugin.db under the root) and
// their own kernel marks, so the daemon's restore and the plugin's never remove each other's
// bridges, veths or chains.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { controllerIdentity } from '../controller/identity';
import { BridgeDriver } from '../drivers/bridge/bridge-driver';
import type { Driver } from '../drivers/driver';
import { MacvlanDriver } from '../drivers/macvlan/macvlan-driver';
import { marksInUse } from '../embed';
import { Firewall } from '../firewall';
import { Ipam, type PoolTemplate } from '../ipam';
import { ownershipOf } from '../kernel/ownership';
import { NetlinkHandle } from '../netlink';
import { ipamCalls } from '../api/plugin/ipam-driver';
import { PluginNetworkDriver } from '../api/plugin/network-driver';
import { pluginListener } from '../api/plugin/server';
import { LocalStore } from '../store/sqlite';
import type { Logger } from '../util/logger';
import { listenUnix } from './api-server';

/** Where Docker looks for plugin sockets. */
export const DOCKER_PLUGIN_DIR = '/run/docker/plugins';

/** The socket of `--docker-plugin`: a name is served in Docker's plugin directory, an absolute path as it is. */
export function dockerPluginSocket(value: string): string {
  return path.isAbsolute(value) ? value : path.join(DOCKER_PLUGIN_DIR, `${value}.sock`);
}

export interface DockerPluginOptions {
  socketPath: string;
  /** The daemon's root: the plugin's store is docker-plugin.db there. */
  root: string;
  localPools?: readonly PoolTemplate[];
  log: Logger;
}

export class DockerPlugin {
  private constructor(
    private readonly server: http.Server,
    private readonly socketPath: string,
    private readonly release: () => Promise<void>,
  ) {}

  static async open(options: DockerPluginOptions): Promise<DockerPlugin> {
    const { log } = options;
    const store = new LocalStore(path.join(options.root, 'docker-plugin.db'), { exclusive: true });
    let netlink: NetlinkHandle | undefined;
    let ipam: Ipam | undefined;
    const close = async (): Promise<void> => {
      await ipam?.close();
      netlink?.close();
      await store.close();
    };
    try {
      const handle = (netlink = NetlinkHandle.open());
      const ownership = ownershipOf(await controllerIdentity(store, (identity) => marksInUse(handle, ownershipOf(identity))));
      const drivers = new Map<string, Driver>([
        ['bridge', new BridgeDriver({ netlink: handle, firewall: new Firewall({ chainPrefix: ownership.chainPrefix }), log, ownership })],
        ['macvlan', new MacvlanDriver({ netlink: handle, log, ownership })],
      ]);
      ipam = await Ipam.open({ local: store, ...(options.localPools && options.localPools.length > 0 ? { localPools: options.localPools } : {}) });
      const networkDriver = new PluginNetworkDriver({ store, drivers, log, hostNamespace: `/proc/${process.pid}/ns/net` });
      await networkDriver.restore();
      const hostRoutes = async (): Promise<string[]> => (await handle.routeList()).filter((r) => r.destination !== 'default').map((r) => r.destination);
      const listener = pluginListener({ NetworkDriver: networkDriver.calls, IpamDriver: ipamCalls({ ipam, hostRoutes }) }, log);
      const server = await listenUnix(options.socketPath, listener, log);
      log.info({ socket: options.socketPath }, 'serving as a Docker network and IPAM plugin');
      return new DockerPlugin(server, options.socketPath, close);
    } catch (error) {
      await close();
      throw error;
    }
  }

  /** Stops serving and removes the socket; Docker's networks and containers stay as they are. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    fs.rmSync(this.socketPath, { force: true });
    await this.release();
  }
}
