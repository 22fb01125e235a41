// Network-scoped tables on top of membership, after libnetwork's networkdb: a member holds the
// entries of the networks it joined and no others. Network joins and leaves are gossiped to the
// whole cluster, entry events only to the network's members; Lamport times order both; a periodic
// push-pull per network (and one of network memberships cluster-wide) repairs what gossip lost.
import type { NodeEvent as DriverNodeEvent, TableEvent } from '../drivers/driver';
import { BroadcastQueue } from './broadcast-queue';
import { systemClock, type Clock } from './clock';
import { Timers } from './timers';
import { MAX_NAME_BYTES } from './codec';
import { EntryStore, newer, type StoredEntry } from './entry-store';
import { LamportClock } from './lamport';
import { pushPullIntervalMs, type Membership, type NodeEvent as MemberEvent } from './membership';
import { NetworkRegistry } from './network-registry';
import { shuffle } from './random';
import { numericSettings } from './settings';
import { BATCH_HEADER, BATCH_PART_OVERHEAD, decodeTableMessage, encodeBatch, encodeTableMessage, MAX_VALUE_BYTES, type EntryEvent, type Gossip, type NetworkEvent, type TableMessage } from './table-codec';

export interface NetworkTablesOptions {
  membership: Membership;
  clock?: Clock;
  random?: () => number;
  gossipIntervalMs?: number;
  /** Members each gossip round sends to: of the cluster for network events, of the network for entries. */
  gossipNodes?: number;
  /** Members of the network an owner sends its own entry changes to at once (gossip reaches the rest). */
  directPeers?: number;
  retransmitMultiplier?: number;
  /** Push-pull of each joined network's entries with one of its members, and of network memberships with one member. */
  bulkSyncIntervalMs?: number;
  /** How long deleted entries and network leaves stay as tombstones. */
  reapMs?: number;
}

const DEFAULTS = {
  gossipIntervalMs: 200,
  gossipNodes: 3,
  directPeers: 32,
  retransmitMultiplier: 4,
  bulkSyncIntervalMs: 30_000,
  reapMs: 30 * 60_000,
};

type Settings = typeof DEFAULTS;

/** A change of an entry another member owns, as the core hands it to a driver's eventNotify. */
export interface TableWatchEvent extends TableEvent {
  owner: string;
}

/** A member joining or leaving the cluster, as the core hands it to discoverNew/discoverDelete. */
export interface ClusterNodeEvent extends DriverNodeEvent {
  type: 'join' | 'leave';
  name: string;
}

export interface TableEntryView {
  key: string;
  value: Buffer;
  owner: string;
}

export type TableErrorCode = 'not-joined' | 'exists' | 'not-found' | 'not-owner' | 'invalid';

export class TableError extends Error {
  constructor(
    readonly code: TableErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TableError';
  }
}

function checkName(value: string, what: string): void {
  const bytes = Buffer.byteLength(value);
  if (bytes === 0 || bytes > MAX_NAME_BYTES) throw new TableError('invalid', `a ${what} needs 1 to ${MAX_NAME_BYTES} bytes, got ${bytes}`);
}

const entryKey = (table: string, key: string): string => `${table}\u0000${key}`;
const networkKey = (node: string, network: string): string => `${node}\u0000${network}`;

export class NetworkTables {
  /** Messages dropped because they did not decode. */
  malformed = 0;
  private readonly membership: Membership;
  private readonly self: string;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly settings: Settings;
  private readonly networkClock = new LamportClock();
  private readonly tableClock = new LamportClock();
  private readonly registry = new NetworkRegistry((node) => this.membership.heldName(node) ?? node);
  private readonly store = new EntryStore();
  /** Network events, gossiped to the whole cluster. */
  private readonly clusterQueue: BroadcastQueue;
  /** Per joined network: its entry events, gossiped to its members. */
  private readonly joined = new Map<string, BroadcastQueue>();
  private readonly tableListeners = new Set<(event: TableWatchEvent) => void>();
  private readonly nodeListeners = new Set<(event: ClusterNodeEvent) => void>();
  private unsubscribe: (() => void) | undefined;
  private gossipSoon = false;
  private started = false;
  private stopped = false;

  constructor(options: NetworkTablesOptions) {
    this.membership = options.membership;
    this.self = options.membership.name;
    this.clock = options.clock ?? systemClock;
    this.timers = new Timers(this.clock);
    this.random = options.random ?? Math.random;
    this.settings = numericSettings('network tables', DEFAULTS, options, 'positive');
    this.clusterQueue = new BroadcastQueue(this.settings.retransmitMultiplier, () => this.membership.liveCount());
  }

  /** Starts gossip and anti-entropy; call once, after the membership joined the cluster. */
  start(): void {
    if (this.started) throw new Error(`network tables of ${this.self} were already started`);
    this.started = true;
    this.membership.onUserPacket((payload) => this.receive(payload));
    this.membership.onUserRequest((payload) => this.answer(payload));
    this.unsubscribe = this.membership.onEvent((event) => this.memberChanged(event));
    this.emitNode({ type: 'join', name: this.self, address: this.membership.localAddress, self: true });
    this.timers.every('gossip', this.settings.gossipIntervalMs, () => this.gossip());
    this.timers.every('bulk-sync', this.settings.bulkSyncIntervalMs, () => void this.syncJoinedNetworks());
    // Every member's network memberships, O(cluster) bytes: exchanged as seldom as membership's
    // push-pull, which carries them in networkdb.
    this.timers.repeat('networks-sync', () => pushPullIntervalMs(this.settings.bulkSyncIntervalMs, this.membership.liveCount()), () => void this.syncNetworks());
    this.timers.every('reap', Math.max(this.settings.gossipIntervalMs, this.settings.reapMs / 4), () => this.reap());
    void this.syncNetworks();
  }

  stop(): void {
    this.stopped = true;
    this.timers.stop();
    this.unsubscribe?.();
  }

  /** Takes part in `network`: announces it and pulls the entries its members hold. */
  async joinNetwork(network: string): Promise<void> {
    checkName(network, 'network id');
    if (this.joined.has(network)) return;
    this.joined.set(network, new BroadcastQueue(this.settings.retransmitMultiplier, () => this.registry.countOn(network)));
    this.announceNetwork(network, false);
    const [peer] = this.networkPeers(network, 1);
    if (peer) await this.bulkSync(network, peer).catch(() => {});
  }

  /** Stops taking part in `network`: announces it and forgets its entries (listeners see them deleted). */
  leaveNetwork(network: string): void {
    if (!this.joined.delete(network)) throw new TableError('not-joined', `${this.self} is not on network ${network}`);
    this.announceNetwork(network, true);
    for (const entry of this.store.dropNetwork(network)) if (entry.owner !== this.self) this.emitTable('delete', entry);
  }

  /** Networks this member is on. */
  networks(): string[] {
    return [...this.joined.keys()];
  }

  /** Members on `network` as this member knows them, itself included. */
  nodesOf(network: string): string[] {
    return this.registry.nodesOf(network).filter((node) => node === this.self || !this.isDown(node)).sort();
  }

  /** Networks `node` is on as this member knows it. */
  networksOf(node: string): string[] {
    return node === this.self ? this.networks() : this.registry.all().filter((e) => e.node === node && !e.leaving).map((e) => e.network).sort();
  }

  createEntry(network: string, table: string, key: string, value: Buffer): void {
    this.checkEntry(network, table, key, value);
    const known = this.store.get(network, table, key);
    if (known && !known.deleted) throw new TableError('exists', `entry ${key} of table ${table} on network ${network} exists (owned by ${known.owner}); update it instead`);
    this.publish({ network, table, key, owner: this.self, ltime: this.tableClock.tick(), deleted: false, value });
  }

  updateEntry(network: string, table: string, key: string, value: Buffer): void {
    this.checkEntry(network, table, key, value);
    this.ownEntry(network, table, key);
    this.publish({ network, table, key, owner: this.self, ltime: this.tableClock.tick(), deleted: false, value });
  }

  deleteEntry(network: string, table: string, key: string): void {
    this.checkEntry(network, table, key, Buffer.alloc(0));
    const known = this.ownEntry(network, table, key);
    this.publish({ network, table, key, owner: this.self, ltime: this.tableClock.tick(), deleted: true, value: known.value });
  }

  /** The live entries of a table of a network this member is on (none for another network). */
  entries(network: string, table: string): TableEntryView[] {
    return this.store.live(network, table).map(({ key, value, owner }) => ({ key, value: Buffer.from(value), owner }));
  }

  /** Deleted entries of `network` still held, until they are reaped (for diagnostics). */
  tombstones(network: string): number {
    return this.store.entriesOf(network).filter((e) => e.deleted).length;
  }

  /** Calls `listener` on each create, update and delete of an entry another member owns; returns an unsubscribe. */
  onTableEvent(listener: (event: TableWatchEvent) => void): () => void {
    this.tableListeners.add(listener);
    return () => this.tableListeners.delete(listener);
  }

  /** Calls `listener` when a member joins the cluster or leaves it (gracefully or declared dead). */
  onNodeEvent(listener: (event: ClusterNodeEvent) => void): () => void {
    this.nodeListeners.add(listener);
    return () => this.nodeListeners.delete(listener);
  }

  // --- local changes -------------------------------------------------------------------------

  private checkEntry(network: string, table: string, key: string, value: Buffer): void {
    checkName(table, 'table name');
    checkName(key, 'key');
    if (value.length > MAX_VALUE_BYTES) throw new TableError('invalid', `an entry's value is at most ${MAX_VALUE_BYTES} bytes, got ${value.length}`);
    if (!this.joined.has(network)) throw new TableError('not-joined', `${this.self} is not on network ${network}: join it before writing its tables`);
  }

  private ownEntry(network: string, table: string, key: string): StoredEntry {
    const known = this.store.get(network, table, key);
    if (!known || known.deleted) throw new TableError('not-found', `no entry ${key} in table ${table} of network ${network}`);
    if (known.owner !== this.self) throw new TableError('not-owner', `entry ${key} of table ${table} on network ${network} is owned by ${known.owner}; only its owner changes it`);
    return known;
  }

  /**
   * The owner sends its change to the network's members itself, one hop instead of a few gossip
   * rounds (an overlay peer is reachable milliseconds after its join); gossip covers the rest and
   * any packet lost.
   */
  private publish(event: EntryEvent): void {
    this.store.apply(event, this.clock.now());
    const queue = this.joined.get(event.network);
    if (!queue) return;
    const message = encodeTableMessage({ type: 'entry-event', event });
    for (const peer of this.networkPeers(event.network, this.settings.directPeers)) this.membership.sendUserPacket(peer, message);
    queue.queue(entryKey(event.table, event.key), message);
    this.gossipNow();
  }

  private announceNetwork(network: string, leaving: boolean): void {
    const event: NetworkEvent = { node: this.self, network, ltime: this.networkClock.tick(), leaving };
    this.registry.apply(event, this.clock.now());
    this.queueGossip(this.clusterQueue, networkKey(this.self, network), { type: 'network-event', event });
  }

  /** Queues an event and gossips it at once rather than at the next round, as membership does. */
  private queueGossip(queue: BroadcastQueue, key: string, message: Gossip): void {
    queue.queue(key, encodeTableMessage(message));
    this.gossipNow();
  }

  // --- events heard --------------------------------------------------------------------------

  private isDown(node: string): boolean {
    const state = this.membership.stateOf(node);
    return state === 'dead' || state === 'left';
  }

  private applyNetworkEvent(event: NetworkEvent, rebroadcast: boolean): void {
    this.networkClock.witness(event.ltime);
    if (event.node === this.self) return this.correctNetworkClaim(event);
    if (this.isDown(event.node) || !this.registry.apply(event, this.clock.now())) return;
    if (rebroadcast) this.queueGossip(this.clusterQueue, networkKey(event.node, event.network), { type: 'network-event', event });
    if (event.leaving && this.joined.has(event.network)) {
      for (const entry of this.store.dropOwner(event.network, event.node)) this.emitTable('delete', entry);
    }
  }

  /** Someone holds a newer claim about our own network membership (we restarted): reassert ours. */
  private correctNetworkClaim(event: NetworkEvent): void {
    const mine = this.registry.get(this.self, event.network);
    if (mine && mine.ltime >= event.ltime) return;
    this.announceNetwork(event.network, !this.joined.has(event.network));
  }

  private applyEntryEvent(event: EntryEvent, rebroadcast: boolean): void {
    this.tableClock.witness(event.ltime);
    const queue = this.joined.get(event.network);
    if (!queue) return;
    if (event.owner === this.self) return this.correctEntryClaim(event);
    // An owner not yet known on the network is taken as on it: its entry, sent straight to the
    // network's members, may overtake the gossiped news of its join. One that left is not.
    if (this.isDown(event.owner) || this.registry.hasLeft(event.owner, event.network)) return;
    const replaced = this.store.apply(event, this.clock.now());
    if (replaced === undefined) return;
    if (rebroadcast) this.queueGossip(queue, entryKey(event.table, event.key), { type: 'entry-event', event });
    const wasLive = replaced !== null && !replaced.deleted;
    if (event.deleted) {
      if (wasLive) this.emitTable('delete', event);
    } else {
      this.emitTable(wasLive ? 'update' : 'create', event);
    }
  }

  /** Someone holds a newer version of an entry we own than we do (we restarted): reassert ours. */
  private correctEntryClaim(event: EntryEvent): void {
    const mine = this.store.get(event.network, event.table, event.key);
    if (mine && !newer(event, mine)) return;
    const deleted = !mine || mine.deleted || mine.owner !== this.self;
    this.publish({ ...event, ltime: this.tableClock.tick(), deleted, value: deleted ? event.value : mine.value });
  }

  private memberChanged(event: MemberEvent): void {
    const { name, address } = event.node;
    if (event.type === 'join') {
      this.emitNode({ type: 'join', name, address, self: false });
      // A member back from a partition or a restart was forgotten with its networks: relearn them.
      return void this.syncWith(address);
    }
    if (event.type !== 'leave') return;
    this.registry.forgetNode(name);
    for (const network of this.joined.keys()) for (const entry of this.store.dropOwner(network, name)) this.emitTable('delete', entry);
    this.emitNode({ type: 'leave', name, address, self: false });
  }

  private emitTable(type: TableWatchEvent['type'], entry: EntryEvent): void {
    const event: TableWatchEvent = { type, networkId: entry.network, table: entry.table, key: entry.key, value: Buffer.from(entry.value), owner: entry.owner };
    for (const listener of this.tableListeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop the tables; listeners handle their own errors.
      }
    }
  }

  private emitNode(event: ClusterNodeEvent): void {
    for (const listener of this.nodeListeners) {
      try {
        listener(event);
      } catch {
        // As above.
      }
    }
  }

  // --- gossip --------------------------------------------------------------------------------



  private gossipNow(): void {
    if (this.gossipSoon || !this.started) return;
    this.gossipSoon = true;
    this.timers.after(0, () => {
      this.gossipSoon = false;
      this.gossip();
    });
  }

  /** Addresses of up to `count` random live members on `network`, self excluded. */
  private networkPeers(network: string, count: number): string[] {
    const addresses: string[] = [];
    for (const node of this.registry.nodesOf(network)) {
      const address = node === this.self ? undefined : this.membership.aliveAddress(node);
      if (address !== undefined) addresses.push(address);
    }
    return shuffle(addresses, this.random).slice(0, count);
  }

  // Peers are only picked for a queue with something to send: picking a network's costs O(its size).
  private gossip(): void {
    if (this.clusterQueue.length > 0) this.sendQueued(this.clusterQueue, this.membership.randomAliveAddresses(this.settings.gossipNodes));
    for (const [network, queue] of this.joined) if (queue.length > 0) this.sendQueued(queue, this.networkPeers(network, this.settings.gossipNodes));
  }

  private sendQueued(queue: BroadcastQueue, peers: string[]): void {
    for (const peer of peers) {
      if (queue.length === 0) return;
      const parts = queue.take(BATCH_PART_OVERHEAD, this.membership.maxUserPacketBytes - BATCH_HEADER, 255);
      if (parts.length === 0) return;
      this.membership.sendUserPacket(peer, parts.length === 1 ? parts[0]! : encodeBatch(parts));
    }
  }

  private receive(payload: Buffer): void {
    if (this.stopped) return;
    const decoded = decodeTableMessage(payload);
    if (!decoded.ok) return void this.malformed++;
    const message = decoded.message;
    const parts = message.type === 'batch' ? message.parts : [message];
    for (const part of parts) {
      if (part.type === 'network-event') this.applyNetworkEvent(part.event, true);
      else if (part.type === 'entry-event') this.applyEntryEvent(part.event, true);
      else this.malformed++;
    }
  }

  // --- anti-entropy --------------------------------------------------------------------------

  private async syncJoinedNetworks(): Promise<void> {
    await Promise.all([...this.joined.keys()].map((network) => this.syncNetwork(network)));
  }

  private async syncNetworks(): Promise<void> {
    const [peer] = this.membership.randomAliveAddresses(1);
    if (peer) await this.syncNetworksWith(peer);
  }

  /** Network memberships, then the entries of each network we share, with one member. */
  private async syncWith(peer: string): Promise<void> {
    await this.syncNetworksWith(peer);
    const name = this.membership.members().find((m) => m.address === peer)?.name;
    const shared = [...this.joined.keys()].filter((network) => name !== undefined && this.registry.isOn(name, network));
    await Promise.all(shared.map((network) => this.bulkSync(network, peer)));
  }

  private async syncNetworksWith(peer: string): Promise<void> {
    const answer = await this.request(peer, { type: 'networks-sync', events: this.registry.all() });
    if (answer?.type === 'networks-sync') for (const event of answer.events) this.applyNetworkEvent(event, false);
  }

  private async syncNetwork(network: string): Promise<void> {
    const [peer] = this.networkPeers(network, 1);
    if (peer) await this.bulkSync(network, peer);
  }

  private bulkSyncMessage(network: string): TableMessage | undefined {
    const join = this.registry.get(this.self, network);
    return join && { type: 'bulk-sync', network, join, entries: this.store.entriesOf(network) };
  }

  private async bulkSync(network: string, peer: string): Promise<void> {
    const request = this.bulkSyncMessage(network);
    if (!request) return;
    const answer = await this.request(peer, request);
    if (answer?.type === 'bulk-sync' && answer.network === network) this.mergeBulkSync(answer);
  }

  private mergeBulkSync(message: Extract<TableMessage, { type: 'bulk-sync' }>): void {
    if (message.join.network !== message.network) return void this.malformed++;
    this.applyNetworkEvent(message.join, false);
    for (const entry of message.entries) {
      if (entry.network === message.network) this.applyEntryEvent(entry, false);
      else this.malformed++;
    }
  }

  /** A state exchange; undefined when the peer did not answer (a later round retries). */
  private async request(peer: string, message: TableMessage): Promise<TableMessage | undefined> {
    try {
      const decoded = decodeTableMessage(await this.membership.requestUser(peer, encodeTableMessage(message)));
      if (!decoded.ok) return void this.malformed++;
      return this.stopped ? undefined : decoded.message;
    } catch {
      return undefined;
    }
  }

  private answer(payload: Buffer): Buffer | undefined {
    if (this.stopped) return undefined;
    const decoded = decodeTableMessage(payload);
    if (!decoded.ok) return void this.malformed++;
    const message = decoded.message;
    if (message.type === 'networks-sync') {
      const answer = encodeTableMessage({ type: 'networks-sync', events: this.registry.all() });
      for (const event of message.events) this.applyNetworkEvent(event, false);
      return answer;
    }
    if (message.type !== 'bulk-sync') return void this.malformed++;
    // Answered before merging, as the requester merges it the same way; not on the network: no answer.
    const answer = this.joined.has(message.network) ? this.bulkSyncMessage(message.network) : undefined;
    if (answer) this.mergeBulkSync(message);
    return answer && encodeTableMessage(answer);
  }

  private reap(): void {
    const now = this.clock.now();
    this.store.reap(now, this.settings.reapMs);
    this.registry.reap(now, this.settings.reapMs);
  }
}
