// A netlink handle bound to one network namespace: one function per kernel operation.
import { AttributeWriter } from './attributes';
import { AF, IFF_UP, IFLA, NLM_F, RTEXT_FILTER_SKIP_STATS, RTM } from './constants';
import { InvalidArgumentError, LinkNotFoundError, NetlinkError } from './errors';
import { type Address, type AddressSpec, decodeAddress, encodeAddress, encodeAddressDump } from './address';
import { type AddrGenMode, type BridgePortSettings, decodeLink, encodeIfinfo, encodeLinkSettings, linkIndexOf, linkNameOf, encodeLinkCreate, type Link, type LinkRef, type LinkSpec, NamespaceFds, type NamespaceRef, type ResolvedRefs, writeAddrGenMode, writeBridgePort } from './link';
import { decodeFdb, encodeFdb, encodeFdbDump, type FdbEntry, type FdbSpec } from './fdb';
import { decodeNeighbour, encodeNeighbour, encodeNeighbourDump, type Neighbour, type NeighbourSpec } from './neighbour';
import { decodeRoute, encodeRoute, encodeRouteDump, type Route, type RouteSpec } from './route';
import type { Message } from './message';
import { type RequestContext, RouteSocket } from './socket';
import { checkLinkName, ipFamily, macToBytes } from './validate';

export type Family = 'all' | 'ipv4' | 'ipv6';
const FAMILY = { all: AF.UNSPEC, ipv4: AF.INET, ipv6: AF.INET6 } as const;

const CREATE = NLM_F.CREATE | NLM_F.EXCL;
const REPLACE = NLM_F.CREATE | NLM_F.REPLACE;

function describe(link: LinkRef): string {
  return typeof link === 'string' ? `"${link}"` : `#${link}`;
}

function checkIndex(link: number): number {
  if (!Number.isInteger(link) || link <= 0) throw new InvalidArgumentError('link index', link, 'must be a positive integer');
  return link;
}

function familyOf(family: Family | undefined): number {
  const value = FAMILY[family ?? 'all'];
  if (value === undefined) throw new InvalidArgumentError('address family', family, "must be 'all', 'ipv4' or 'ipv6'");
  return value;
}

export interface HandleOptions {
  /** A network namespace file (e.g. /run/netns/x); the caller's own namespace when omitted. */
  netns?: string;
}

export class NetlinkHandle {
  /** The namespace this handle programs (undefined: the one the process was in at open). */
  readonly netns: string | undefined;
  private readonly socket: RouteSocket;

  private constructor(netns: string | undefined) {
    this.netns = netns;
    try {
      this.socket = RouteSocket.open(netns ?? null);
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      if (netns !== undefined && err.code === 'ENOENT') throw new InvalidArgumentError('network namespace', netns, 'does not exist; create it first');
      throw error;
    }
  }

  static open(options: HandleOptions = {}): NetlinkHandle {
    return new NetlinkHandle(options.netns);
  }

  close(): void {
    this.socket.close();
  }

  /** Datagrams sent to the kernel so far: requests made in the same tick share one. */
  get datagramsSent(): number {
    return this.socket.datagramsSent;
  }

  // ---- links ----

  /**
   * Creates a link in one RTM_NEWLINK request (a veth pair with both ends, `up` and `master`
   * included), so a failure leaves nothing behind. Resolves with the link as the kernel made it,
   * taken from the kernel's NLM_F_ECHO copy (Linux ≥ 6.3); older kernels cost one more lookup.
   */
  async linkAdd(spec: LinkSpec): Promise<Link> {
    const replies = await this.createLink(spec, undefined, true);
    // Several copies may come (the link as registered, then as brought up; a same-namespace veth
    // peer's): the last one named like the request is the link's final state.
    const echoed = replies.filter((m) => m.type === RTM.NEWLINK && linkNameOf(m.payload) === spec.name).pop();
    return echoed ? decodeLink(echoed.payload) : this.linkGet(spec.name);
  }

  /**
   * Creates a link directly inside another network namespace (its path or an open descriptor), in one
   * request; the links it names (parent, master) are looked up in this handle's namespace. The
   * kernel's copy of the new link goes to that namespace, so there is nothing to describe here.
   */
  async linkAddInNamespace(spec: LinkSpec, netns: NamespaceRef): Promise<void> {
    await this.createLink(spec, netns, false);
  }

  /**
   * Deletes a link (both ends of a veth pair). Resolves as soon as the kernel has unregistered it
   * (its name and index are free, it is gone from every listing), which its NLM_F_ECHO copy
   * tells ~0.2 ms in; the kernel then waits out RCU grace periods (~15 ms) before acking, and that
   * wait stays on the thread pool. Kernels without the echo (< 6.3) resolve on the ack.
   */
  async linkDel(link: LinkRef): Promise<void> {
    const selector = this.linkSelector(link);
    const settledBy = (m: Message): boolean => m.type === RTM.DELLINK && (typeof link === 'number' ? linkIndexOf(m.payload) === link : linkNameOf(m.payload) === link);
    await this.socket.request(RTM.DELLINK, 0, selector, { operation: 'deleting link', object: describe(link), offload: true, echo: true, settledBy });
  }

  async linkGet(link: LinkRef): Promise<Link> {
    const payload = Buffer.concat([this.linkSelector(link), new AttributeWriter().u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS).toBuffer()]);
    try {
      const [reply] = await this.socket.request(RTM.GETLINK, 0, payload, { operation: 'getting link', object: describe(link) });
      if (!reply) throw new LinkNotFoundError(link);
      return decodeLink(reply.payload);
    } catch (error) {
      if (error instanceof NetlinkError && error.code === 'ENODEV') throw new LinkNotFoundError(link);
      throw error;
    }
  }

  async linkList(): Promise<Link[]> {
    const payload = Buffer.concat([encodeIfinfo(0), new AttributeWriter().u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS).toBuffer()]);
    const replies = await this.socket.dump(RTM.GETLINK, payload, { operation: 'listing links', object: this.where() });
    return replies.filter((m) => m.type === RTM.NEWLINK).map((m) => decodeLink(m.payload));
  }

  linkSetUp(link: LinkRef): Promise<void> {
    return this.modifyLink(link, 'setting up link', IFF_UP, IFF_UP);
  }

  linkSetDown(link: LinkRef): Promise<void> {
    return this.modifyLink(link, 'setting down link', 0, IFF_UP);
  }

  linkSetMtu(link: LinkRef, mtu: number): Promise<void> {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgumentError('MTU', mtu, 'must be an integer from 68 to 65535');
    return this.modifyLink(link, `setting MTU ${mtu} on link`, 0, 0, (w) => w.u32(IFLA.MTU, mtu));
  }

  linkSetMac(link: LinkRef, mac: string): Promise<void> {
    const bytes = macToBytes(mac);
    return this.modifyLink(link, `setting MAC ${mac} on link`, 0, 0, (w) => w.bytes(IFLA.ADDRESS, bytes));
  }

  async linkSetName(link: LinkRef, name: string): Promise<void> {
    checkLinkName(name, 'new link name');
    // The name attribute would double as the selector, so rename by index.
    const index = await this.linkIndex(link);
    await this.modifyLink(index, `renaming to "${name}" link`, 0, 0, (w) => w.string(IFLA.IFNAME, name));
  }

  async linkSetMaster(link: LinkRef, master: LinkRef): Promise<void> {
    const masterIndex = await this.linkIndex(master);
    await this.modifyLink(link, `enslaving to ${describe(master)} link`, 0, 0, (w) => w.u32(IFLA.MASTER, masterIndex));
  }

  linkSetNoMaster(link: LinkRef): Promise<void> {
    return this.modifyLink(link, 'releasing from its master link', 0, 0, (w) => w.u32(IFLA.MASTER, 0));
  }

  /**
   * Moves a link into the namespace `netns` (a path or an open descriptor); it leaves this
   * handle's namespace. With `name` it is renamed there, with `group` put in that link group, in
   * the same request: no other link of the target namespace can be caught by its old name, and
   * no crash finds it there unmarked.
   */
  async linkSetNetns(link: LinkRef, netns: NamespaceRef, changes: { name?: string; group?: number } = {}): Promise<void> {
    const { name, group } = changes;
    if (name !== undefined) checkLinkName(name, 'new link name');
    // The name attribute would double as the selector, so the link goes by index.
    const index = name !== undefined ? await this.linkIndex(link) : link;
    const namespaces = new NamespaceFds();
    try {
      const fd = namespaces.open(netns);
      await this.modifyLink(index, `moving to namespace ${typeof netns === 'number' ? `fd ${netns}` : netns} link`, 0, 0, (w) => {
        w.u32(IFLA.NET_NS_FD, fd);
        if (name !== undefined) w.string(IFLA.IFNAME, name);
        if (group !== undefined) w.u32(IFLA.GROUP, group);
      });
    } finally {
      namespaces.close();
    }
  }

  linkSetAlias(link: LinkRef, alias: string): Promise<void> {
    if (Buffer.byteLength(alias) > 255) throw new InvalidArgumentError('link alias', alias, 'is longer than 255 bytes');
    return this.modifyLink(link, 'setting the alias of link', 0, 0, (w) => w.string(IFLA.IFALIAS, alias));
  }

  /**
   * How the link makes its IPv6 link-local address (`ip link set X addrgenmode`): 'none' while
   * the link is down keeps IPv6 silent on it, no link-local address, no DAD, no router
   * solicitations, no MLD reports.
   */
  linkSetAddrGenMode(link: LinkRef, mode: AddrGenMode): Promise<void> {
    return this.modifyLink(link, 'setting the IPv6 address generation mode of link', 0, 0, (w) => writeAddrGenMode(w, mode));
  }

  /** Settings of a bridge port (a link enslaved to a bridge). */
  async bridgePortSet(link: LinkRef, settings: BridgePortSettings): Promise<void> {
    const index = await this.linkIndex(link);
    const w = new AttributeWriter().nested(IFLA.PROTINFO, (port) => writeBridgePort(port, settings));
    await this.socket.request(RTM.SETLINK, 0, Buffer.concat([encodeIfinfo(index, 0, 0, AF.BRIDGE), w.toBuffer()]), { operation: 'setting bridge port options of link', object: describe(link) });
  }

  // ---- addresses ----

  async addrAdd(link: LinkRef, spec: AddressSpec): Promise<void> {
    await this.withIndex(link, (index) => this.socket.request(RTM.NEWADDR, CREATE, encodeAddress(index, spec), { operation: `adding address ${spec.address} to link`, object: describe(link) }));
  }

  async addrDel(link: LinkRef, address: string): Promise<void> {
    await this.withIndex(link, (index) => this.socket.request(RTM.DELADDR, 0, encodeAddress(index, { address, broadcast: 'none' }), { operation: `deleting address ${address} from link`, object: describe(link) }));
  }

  async addrList(filter: { link?: LinkRef; family?: Family } = {}): Promise<Address[]> {
    const index = filter.link === undefined ? 0 : await this.linkIndex(filter.link);
    const replies = await this.socket.dump(RTM.GETADDR, encodeAddressDump(familyOf(filter.family), index), { operation: 'listing addresses', object: this.where() });
    return replies.filter((m) => m.type === RTM.NEWADDR).map((m) => decodeAddress(m.payload)).filter((a) => index === 0 || a.linkIndex === index);
  }

  // ---- routes ----

  routeAdd(spec: RouteSpec): Promise<void> {
    return this.changeRoute(RTM.NEWROUTE, CREATE, spec, 'adding route');
  }

  routeReplace(spec: RouteSpec): Promise<void> {
    return this.changeRoute(RTM.NEWROUTE, REPLACE, spec, 'replacing route');
  }

  routeDel(spec: RouteSpec): Promise<void> {
    return this.changeRoute(RTM.DELROUTE, 0, spec, 'deleting route');
  }

  /** Routes of one table (main unless given), optionally of one device. */
  async routeList(filter: { family?: Family; table?: number; link?: LinkRef } = {}): Promise<Route[]> {
    const index = filter.link === undefined ? undefined : await this.linkIndex(filter.link);
    const table = filter.table ?? 254;
    const replies = await this.socket.dump(RTM.GETROUTE, encodeRouteDump(familyOf(filter.family)), { operation: 'listing routes', object: this.where() });
    return replies
      .filter((m) => m.type === RTM.NEWROUTE)
      .map((m) => decodeRoute(m.payload))
      .filter((r) => r.table === table && (index === undefined || r.linkIndex === index));
  }

  // ---- neighbours ----

  async neighAdd(link: LinkRef, spec: NeighbourSpec): Promise<void> {
    await this.changeNeighbour(RTM.NEWNEIGH, CREATE, link, spec, 'adding neighbour');
  }

  async neighReplace(link: LinkRef, spec: NeighbourSpec): Promise<void> {
    await this.changeNeighbour(RTM.NEWNEIGH, REPLACE, link, spec, 'replacing neighbour');
  }

  async neighDel(link: LinkRef, spec: { ip: string; proxy?: boolean }): Promise<void> {
    await this.changeNeighbour(RTM.DELNEIGH, 0, link, spec, 'deleting neighbour');
  }

  /** Neighbour entries (or, with proxy: true, proxy entries), optionally of one device. */
  async neighList(filter: { link?: LinkRef; family?: Family; proxy?: boolean } = {}): Promise<Neighbour[]> {
    const index = filter.link === undefined ? 0 : await this.linkIndex(filter.link);
    const replies = await this.socket.dump(RTM.GETNEIGH, encodeNeighbourDump(familyOf(filter.family), index, filter.proxy ?? false), { operation: 'listing neighbours', object: this.where() });
    return replies
      .filter((m) => m.type === RTM.NEWNEIGH)
      .map((m) => decodeNeighbour(m.payload))
      .filter((n) => (index === 0 || n.linkIndex === index) && n.proxy === (filter.proxy ?? false));
  }

  // ---- bridge forwarding database ----

  /** Adds an FDB entry even when the MAC already has one (NLM_F_APPEND: VXLAN flooding lists). */
  async fdbAppend(link: LinkRef, spec: FdbSpec): Promise<void> {
    const index = await this.linkIndex(link);
    await this.socket.request(RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.APPEND, encodeFdb(index, spec, false), { operation: `appending FDB entry ${spec.mac} to link`, object: describe(link) });
  }

  /**
   * Adds an FDB entry or replaces the one the MAC has (NLM_F_REPLACE): a VXLAN peer that moved to
   * another VTEP keeps one entry, pointing at the new VTEP.
   */
  async fdbReplace(link: LinkRef, spec: FdbSpec): Promise<void> {
    const index = await this.linkIndex(link);
    await this.socket.request(RTM.NEWNEIGH, REPLACE, encodeFdb(index, spec, false), { operation: `replacing FDB entry ${spec.mac} on link`, object: describe(link) });
  }

  async fdbDel(link: LinkRef, spec: FdbSpec): Promise<void> {
    const index = await this.linkIndex(link);
    await this.socket.request(RTM.DELNEIGH, 0, encodeFdb(index, spec, true), { operation: `deleting FDB entry ${spec.mac} from link`, object: describe(link) });
  }

  async fdbList(filter: { link?: LinkRef } = {}): Promise<FdbEntry[]> {
    const index = filter.link === undefined ? 0 : await this.linkIndex(filter.link);
    const replies = await this.socket.dump(RTM.GETNEIGH, encodeFdbDump(), { operation: 'listing FDB entries', object: this.where() });
    return replies
      .filter((m) => m.type === RTM.NEWNEIGH)
      .map((m) => decodeFdb(m.payload))
      .filter((e) => index === 0 || e.linkIndex === index);
  }

  // ---- helpers ----

  /**
   * Runs `send` with the link's index: at once for an index, so requests naming links by index go
   * to the kernel in the order they were made (a batch may rely on it); after a lookup for a name.
   */
  private withIndex<T>(link: LinkRef, send: (index: number) => Promise<T>): Promise<T> {
    if (typeof link === 'string') return this.linkIndex(link).then(send);
    try {
      return send(checkIndex(link));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The index of a link; numbers are taken as they are. */
  async linkIndex(link: LinkRef): Promise<number> {
    if (typeof link === 'number') return checkIndex(link);
    return (await this.linkGet(link)).index;
  }

  private where(): string {
    return this.netns ? `in ${this.netns}` : 'in the current namespace';
  }

  /** ifinfomsg selecting a link by index, or by IFLA_IFNAME when named. */
  private linkSelector(link: LinkRef, flags = 0, change = 0): Buffer {
    if (typeof link === 'number') return encodeIfinfo(checkIndex(link), flags, change);
    checkLinkName(link);
    return Buffer.concat([encodeIfinfo(0, flags, change), new AttributeWriter().string(IFLA.IFNAME, link).toBuffer()]);
  }

  private async modifyLink(link: LinkRef, operation: string, flags: number, change: number, attributes?: (w: AttributeWriter) => void): Promise<void> {
    const w = new AttributeWriter();
    attributes?.(w);
    const payload = Buffer.concat([this.linkSelector(link, flags, change), w.toBuffer()]);
    await this.socket.request(RTM.NEWLINK, 0, payload, { operation, object: describe(link) });
  }

  private async createLink(spec: LinkSpec, netns: NamespaceRef | undefined, echo: boolean): Promise<Message[]> {
    const refs = await this.resolveRefs(spec);
    const namespaces = new NamespaceFds();
    try {
      const payload = encodeLinkCreate(spec, refs, namespaces, netns);
      if (netns !== undefined && (spec.addrGenMode !== undefined || spec.bridgePort !== undefined)) throw new InvalidArgumentError('link settings', spec.name, 'apply to links made in this namespace only');
      const settings = encodeLinkSettings(spec);
      const where = netns === undefined ? '' : typeof netns === 'number' ? ' in another namespace' : ` in ${netns}`;
      const object = `"${spec.name}"${where}`;
      const created = this.socket.request(RTM.NEWLINK, CREATE, payload, { operation: 'creating link', object, echo });
      if (!settings) return await created;
      // Queued in the same tick: the kernel runs both from one datagram, in order.
      const configured = this.socket.request(RTM.NEWLINK, 0, settings, { operation: 'configuring new link', object });
      const [replies, outcome] = await Promise.all([created, configured.then(() => undefined, (error: unknown) => error)]);
      if (outcome !== undefined) {
        await this.linkDel(spec.name).catch(() => undefined);
        throw outcome;
      }
      return replies;
    } finally {
      namespaces.close();
    }
  }

  private async resolveRefs(spec: LinkSpec): Promise<ResolvedRefs> {
    const refs: ResolvedRefs = {};
    if (spec.master !== undefined) refs.master = await this.linkIndex(spec.master);
    if (spec.kind === 'macvlan' || spec.kind === 'vlan') refs.parent = await this.linkIndex(spec.parent);
    if (spec.kind === 'vxlan' && spec.device !== undefined) refs.device = await this.linkIndex(spec.device);
    return refs;
  }

  private async changeRoute(type: number, flags: number, spec: RouteSpec, operation: string): Promise<void> {
    const context: RequestContext = { operation, object: `${spec.destination}${spec.gateway ? ` via ${spec.gateway}` : ''}${spec.link !== undefined ? ` dev ${describe(spec.link)}` : ''}` };
    const send = (index: number | undefined): Promise<Message[]> => this.socket.request(type, flags, encodeRoute(spec, index, type === RTM.DELROUTE), context);
    await (spec.link === undefined ? send(undefined) : this.withIndex(spec.link, send));
  }

  private async changeNeighbour(type: number, flags: number, link: LinkRef, spec: NeighbourSpec, operation: string): Promise<void> {
    ipFamily(spec.ip);
    const context: RequestContext = { operation, object: `${spec.ip}${spec.proxy ? ' (proxy)' : ''} on ${describe(link)}` };
    await this.withIndex(link, (index) => this.socket.request(type, flags, encodeNeighbour(index, spec, type === RTM.DELNEIGH), context));
  }
}

