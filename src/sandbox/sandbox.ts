// A sandbox: a container's network namespace and what netctl configures inside it (loopback,
// the addresses of its interfaces, its default routes). Drivers put interfaces in; the sandbox
// gives them their layer 3. One netlink socket opened inside the namespace serves every
// operation and is kept until close() or destroy(): opening one costs more than the work it does.
// So is a descriptor of the namespace, which drivers hand the kernel to create links in it.
import fs from 'node:fs';
import { createNamespace, deleteNamespace, sameNamespace } from '../native/netns';
import { type LinkRef, type NamespaceRef, NetlinkHandle, type RouteSpec } from '../netlink';

export type Family = 'ipv4' | 'ipv6';

/** A route an interface carries besides the default route. */
export interface StaticRoute {
  /** CIDR. */
  destination: string;
  /** Through a router (an address); without one the destination is on the link itself. */
  nextHop?: string;
}

const isGone = (error: unknown): boolean => ['ENODEV', 'ESRCH', 'ENOENT'].includes((error as { code?: string }).code ?? '');
/** For removals and moves: an interface already gone is what was wanted. */
const unlessGone = (error: unknown): void => {
  if (!isGone(error)) throw error;
};

const defaultRoutes = (gateways: Partial<Record<Family, string>>): RouteSpec[] => Object.entries(gateways).map(([family, gateway]) => ({ destination: 'default', family: family as Family, gateway }));

export class Sandbox {
  private netlink: NetlinkHandle | undefined;
  private namespaceFd: number | undefined;

  private constructor(
    /** The namespace's path (a bind mount), what Docker calls the sandbox key. */
    readonly key: string,
  ) {}

  /** Makes a namespace `dir/name` with loopback up. */
  static async create(dir: string, name: string): Promise<Sandbox> {
    const sandbox = new Sandbox(createNamespace(dir, name));
    try {
      await sandbox.handle().linkSetUp('lo');
      return sandbox;
    } catch (error) {
      sandbox.destroy();
      throw error;
    }
  }

  /**
   * A namespace someone else made and owns (an engine's external key), with loopback up as in
   * one netctl makes: the embedded DNS listens on 127.0.0.11. Its owner removes it, not destroy().
   */
  static async adopt(key: string): Promise<Sandbox> {
    const sandbox = new Sandbox(key);
    try {
      await sandbox.handle().linkSetUp('lo');
      return sandbox;
    } catch (error) {
      sandbox.close();
      throw error;
    }
  }

  /** A sandbox whose namespace exists already (after a daemon restart). */
  static open(key: string): Sandbox {
    return new Sandbox(key);
  }

  /** Whether the namespace is still there (a reboot or a hand-run `ip netns del` removes it). */
  exists(): boolean {
    try {
      return sameNamespace(this.key, this.key);
    } catch {
      return false;
    }
  }

  /**
   * Gives an interface a driver put in its addresses (CIDR), brings it up and points the default
   * routes of `gateways` through it. Named by index (when the driver learnt it) everything goes
   * to the kernel in one datagram, executed in order; by name it takes one lookup first.
   */
  async configureInterface(link: LinkRef, addresses: readonly string[], gateways: Partial<Record<Family, string>> = {}, routes: readonly StaticRoute[] = []): Promise<void> {
    // Without an IPv6 address the interface stays silent in IPv6 (as Docker disables IPv6 there):
    // otherwise its link-local address, DAD, router solicitations and MLD reports are flooded to
    // every port of the bridge, a cost that grows with the square of the containers on it.
    const ipv6 = addresses.some((address) => address.includes(':'));
    const netlink = this.handle();
    const index = await netlink.linkIndex(link);
    // The generation mode is set while the link is still down; the routes come after the
    // addresses and the up that make their gateways reachable.
    await Promise.all([
      ...(ipv6 ? [] : [netlink.linkSetAddrGenMode(index, 'none')]),
      ...addresses.map((address) => netlink.addrAdd(index, { address, noDad: address.includes(':') })),
      netlink.linkSetUp(index),
      ...defaultRoutes(gateways).map((route) => netlink.routeReplace(route)),
      ...routes.map((route) => netlink.routeReplace({ destination: route.destination, link: index, ...(route.nextHop !== undefined ? { gateway: route.nextHop } : {}) })),
    ]);
  }

  /**
   * Moves an interface of the namespace `from` (a handle there) into this sandbox as `name`, in
   * link group `group` (so a crash before its endpoint is recorded leaves a stray the next start
   * finds), with `mac`: how a driver that makes its interface elsewhere hands it over. Resolves
   * with its index.
   */
  async adoptInterface(from: NetlinkHandle, source: string, name: string, mac: string, group: number): Promise<number> {
    await from.linkSetNetns(source, this.descriptor(), { name, group });
    const netlink = this.handle();
    const index = await netlink.linkIndex(name);
    await netlink.linkSetMac(index, mac);
    return index;
  }

  /**
   * Moves an interface handed over back to the namespace `to` under its old name and out of the
   * controller's link group, as libnetwork does, so that its driver can delete it there; one
   * already gone is no error.
   */
  async returnInterface(link: LinkRef, to: NamespaceRef, name: string): Promise<void> {
    await this.handle().linkSetNetns(link, to, { name, group: 0 }).catch(unlessGone);
  }

  /** Points the default route of each family given at its gateway, replacing the one there was. */
  async setGateways(gateways: Partial<Record<Family, string>>): Promise<void> {
    if (Object.keys(gateways).length === 0) return;
    const netlink = this.handle();
    await Promise.all(defaultRoutes(gateways).map((route) => netlink.routeReplace(route)));
  }

  /**
   * Removes the interfaces the controller made here (its link group) that are not in `expected`:
   * a crash came between making one and recording its endpoint. Returns their names.
   */
  async removeStrayInterfaces(expected: ReadonlySet<string>, linkGroup: number): Promise<string[]> {
    const netlink = this.handle();
    const strays = (await netlink.linkList()).filter((link) => link.group === linkGroup && !expected.has(link.name));
    for (const link of strays) await netlink.linkDel(link.index).catch(unlessGone);
    return strays.map((link) => link.name);
  }

  /** An open descriptor of the namespace, valid until close() or destroy(). */
  descriptor(): number {
    if (this.namespaceFd === undefined) {
      try {
        this.namespaceFd = fs.openSync(this.key, 'r');
      } catch (error) {
        throw new Error(`the network namespace of sandbox ${this.key} cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'}): it was removed outside netctl; remove the container`);
      }
    }
    return this.namespaceFd;
  }

  /** Lets go of the sandbox's netlink socket and descriptor (the namespace stays). */
  close(): void {
    this.netlink?.close();
    this.netlink = undefined;
    if (this.namespaceFd !== undefined) fs.closeSync(this.namespaceFd);
    this.namespaceFd = undefined;
  }

  /** Removes the namespace's name; the kernel takes its interfaces away once nothing holds it. */
  destroy(): void {
    this.close();
    try {
      deleteNamespace(this.key);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  private handle(): NetlinkHandle {
    return (this.netlink ??= NetlinkHandle.open({ netns: this.key }));
  }
}
