// A sandbox: a container's network namespace and what netctl configures inside it (loopback,
// the addresses of its interfaces, its default routes). Drivers put interfaces in; the sandbox
// gives them their layer 3. A netlink socket opened inside the namespace serves each operation.
import { createNamespace, deleteNamespace, sameNamespace } from '../native/netns';
import { NetlinkHandle } from '../netlink';

export type Family = 'ipv4' | 'ipv6';

const isGone = (error: unknown): boolean => ['ENODEV', 'ESRCH', 'ENOENT'].includes((error as { code?: string }).code ?? '');

async function replaceDefaultRoutes(netlink: NetlinkHandle, gateways: Partial<Record<Family, string>>): Promise<void> {
  await Promise.all(Object.entries(gateways).map(([family, gateway]) => netlink.routeReplace({ destination: 'default', family: family as Family, gateway })));
}

export class Sandbox {
  private constructor(
    /** The namespace's path (a bind mount), what Docker calls the sandbox key. */
    readonly key: string,
  ) {}

  /** Makes a namespace `dir/name` with loopback up. */
  static async create(dir: string, name: string): Promise<Sandbox> {
    const sandbox = new Sandbox(createNamespace(dir, name));
    try {
      await sandbox.withNetlink((netlink) => netlink.linkSetUp('lo'));
      return sandbox;
    } catch (error) {
      sandbox.destroy();
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
   * Gives an interface a driver put in its addresses (CIDR) and brings it up, then points the
   * default routes of `gateways` through it, on one socket.
   */
  async configureInterface(ifname: string, addresses: readonly string[], gateways: Partial<Record<Family, string>> = {}): Promise<void> {
    // Without an IPv6 address the interface stays silent in IPv6 (as Docker disables IPv6 there):
    // otherwise its link-local address, DAD, router solicitations and MLD reports are flooded to
    // every port of the bridge, a cost that grows with the square of the containers on it.
    const ipv6 = addresses.some((address) => address.includes(':'));
    await this.withNetlink(async (netlink) => {
      // One datagram, executed in order: the generation mode is set while the link is still down.
      await Promise.all([
        ...(ipv6 ? [] : [netlink.linkSetAddrGenMode(ifname, 'none')]),
        ...addresses.map((address) => netlink.addrAdd(ifname, { address, noDad: address.includes(':') })),
        netlink.linkSetUp(ifname),
      ]);
      await replaceDefaultRoutes(netlink, gateways);
    });
  }

  /** Points the default route of each family given at its gateway, replacing the one there was. */
  async setGateways(gateways: Partial<Record<Family, string>>): Promise<void> {
    if (Object.keys(gateways).length === 0) return;
    await this.withNetlink((netlink) => replaceDefaultRoutes(netlink, gateways));
  }

  /** Removes the namespace's name; the kernel takes its interfaces away once nothing holds it. */
  destroy(): void {
    try {
      deleteNamespace(this.key);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  private async withNetlink<T>(work: (netlink: NetlinkHandle) => Promise<T>): Promise<T> {
    const netlink = NetlinkHandle.open({ netns: this.key });
    try {
      return await work(netlink);
    } finally {
      netlink.close();
    }
  }
}
