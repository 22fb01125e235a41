// A sandbox: a container's network namespace and what netctl configures inside it (loopback,
// the addresses of its interfaces, its default routes). Drivers put interfaces in; the sandbox
// gives them their layer 3. A netlink socket opened inside the namespace serves each operation.
import { createNamespace, deleteNamespace, sameNamespace } from '../native/netns';
import { NetlinkHandle } from '../netlink';

export type Family = 'ipv4' | 'ipv6';

const isGone = (error: unknown): boolean => ['ENODEV', 'ESRCH', 'ENOENT'].includes((error as { code?: string }).code ?? '');

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

  /** Gives an interface a driver put in its addresses (CIDR) and brings it up, in one batch. */
  async configureInterface(ifname: string, addresses: readonly string[]): Promise<void> {
    await this.withNetlink((netlink) => Promise.all([...addresses.map((address) => netlink.addrAdd(ifname, { address, noDad: address.includes(':') })), netlink.linkSetUp(ifname)]));
  }

  /** Points the default route of a family at `gateway`, replacing the one there was. */
  async setGateway(family: Family, gateway: string): Promise<void> {
    await this.withNetlink((netlink) => netlink.routeReplace({ destination: 'default', family, gateway }));
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
