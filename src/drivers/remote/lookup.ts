// Docker plugins by name for the controller's registry: found by Docker's discovery rules,
// activated once (Plugin.Activate), then made a network driver or an IPAM driver as what it
// implements allows. A failed activation is forgotten, so the next use tries again.
import type { IpamDriver } from '../../ipam/driver';
import { RemoteIpam } from '../../ipam/remote';
import type { Logger } from '../../util/logger';
import type { Driver } from '../driver';
import { PluginError, type PluginClientOptions } from './client';
import { DOCKER_ROOTS, findPlugin, type DiscoveryRoots } from './discovery';
import { Plugin } from './plugin';
import { RemoteDriver } from './remote-driver';

export interface PluginLookupOptions {
  roots?: DiscoveryRoots;
  client?: PluginClientOptions;
  log: Logger;
}

export class PluginLookup {
  private readonly plugins = new Map<string, Promise<Plugin>>();
  private readonly drivers = new Map<string, Promise<Driver>>();
  private readonly ipams = new Map<string, Promise<IpamDriver>>();

  constructor(private readonly options: PluginLookupOptions) {}

  /** The network driver of plugin `name`; undefined when no plugin of that name is installed. */
  driver(name: string): Promise<Driver | undefined> {
    return this.once(this.drivers, name, 'NetworkDriver', (plugin) => RemoteDriver.create(plugin, this.options.log));
  }

  /** The IPAM driver of plugin `name`; undefined when no plugin of that name is installed. */
  ipam(name: string): Promise<IpamDriver | undefined> {
    return this.once(this.ipams, name, 'IpamDriver', (plugin) => RemoteIpam.create(plugin));
  }

  async close(): Promise<void> {
    const plugins = await Promise.allSettled(this.plugins.values());
    for (const result of plugins) if (result.status === 'fulfilled') result.value.close();
  }

  private async once<T>(made: Map<string, Promise<T>>, name: string, subsystem: string, make: (plugin: Plugin) => Promise<T>): Promise<T | undefined> {
    let pending = made.get(name);
    if (!pending) {
      const found = findPlugin(name, this.options.roots ?? DOCKER_ROOTS);
      if (!found) return undefined;
      pending = this.activated(name, found).then((plugin) => {
        if (!plugin.implements(subsystem)) {
          throw new PluginError(`plugin "${name}" (${found.source}) does not implement ${subsystem}; it implements ${plugin.implementsList.join(', ') || 'nothing'}`, name, 'Plugin.Activate');
        }
        return make(plugin);
      });
      made.set(name, pending);
      pending.catch(() => made.delete(name));
      this.options.log.info({ plugin: name, source: found.source }, `plugin ${name} found`);
    }
    return pending;
  }

  private activated(name: string, found: Parameters<typeof Plugin.activate>[0]): Promise<Plugin> {
    let plugin = this.plugins.get(name);
    if (!plugin) {
      plugin = Plugin.activate(found, this.options.client);
      this.plugins.set(name, plugin);
      plugin.catch(() => this.plugins.delete(name));
    }
    return plugin;
  }
}
