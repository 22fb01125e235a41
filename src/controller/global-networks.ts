// Global-scope networks in the cluster store (etcd), shared by every controller on it. Keys:
//   networks/<id>                the network's record
//   networks/<id>/hosts/<node>   {endpoints: [ids]}: the endpoints one host has on it
//   network-names/<name>         the ID holding the name, claimed with the record in one CAS
// The view is kept current by a watch (etcd resumes a broken one from the last revision it saw);
// a watch etcd ends for good (its history compacted past that revision) brings a full re-list.
// A host's first endpoint on a network rewrites the record guarded by its version, and a removal
// deletes it guarded by the version it read with no hosts: one of the two always loses its CAS.
import type { Logger } from '../util/logger';
import { CasConflictError, StoreUnavailableError } from '../store/errors';
import type { Entry, Op, Store, Watch, WatchEvent } from '../store/types';
import { ClusterUnavailableError, ConflictError, ForbiddenError, NotFoundError } from './errors';
import { type NetworkRecord, parseNetworkRecord } from './network-record';

const NETWORKS = 'networks/';
const NAMES = 'network-names/';
const HOSTS = '/hosts/';
/** Attempts of a guarded change that keeps losing to other hosts' changes of the same network. */
const MAX_ATTEMPTS = 32;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

export interface GlobalNetworksDeps {
  store: Store;
  /** This host's name in the cluster (hosts/<node> keys, and in "active endpoints" errors). */
  node: string;
  log: Logger;
  /** A network's record went (removed from any host, seen by the watch or a re-list). */
  removed(record: NetworkRecord): void;
  /** The endpoints this host has on a global network, as its local store says: written back to etcd after an outage. */
  ownEndpoints(networkId: string): string[];
  /** After an outage (and at start), once this host's endpoints are written back: the rest of the catching up. */
  caughtUp?(): Promise<void>;
}

type ParsedKey = { kind: 'record'; id: string } | { kind: 'host'; id: string; node: string } | undefined;

/** What a key under networks/ is: a record, a host's endpoints, or something this version does not know. */
export function parseNetworkKey(key: string): ParsedKey {
  if (!key.startsWith(NETWORKS)) return undefined;
  const rest = key.slice(NETWORKS.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return rest === '' ? undefined : { kind: 'record', id: rest };
  if (!rest.startsWith(HOSTS, slash)) return undefined;
  const node = rest.slice(slash + HOSTS.length);
  return node === '' ? undefined : { kind: 'host', id: rest.slice(0, slash), node: decodeURIComponent(node) };
}

/** The message of a removal refused because hosts have endpoints on the network (Docker's words, then where). */
export function activeEndpointsMessage(record: Pick<NetworkRecord, 'name' | 'id'>, hosts: readonly string[]): string {
  return `error while removing network: network ${record.name} id ${record.id} has active endpoints (on ${hosts.length === 1 ? 'host' : 'hosts'} ${hosts.join(', ')}); disconnect or remove them there first`;
}

/** A cluster store that cannot be reached becomes the controller's 503, saying what still works; other errors pass. */
export function clusterError(what: string, error: unknown): unknown {
  if (!(error instanceof StoreUnavailableError)) return error;
  return new ClusterUnavailableError(
    `cannot ${what}: the cluster store is unreachable (${error.message}). Until it answers, global-scope networks cannot be created or removed, nor joined on a host that does not carry them yet; local networks and everything already running keep working`,
  );
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const endpointsOf = (entry: Entry | undefined): string[] => (entry ? ((JSON.parse(entry.value.toString('utf8')) as { endpoints?: string[] }).endpoints ?? []) : []);

export class GlobalNetworks {
  private readonly records = new Map<string, NetworkRecord>();
  /** network ID → node → its endpoint IDs. */
  private readonly hosts = new Map<string, Map<string, string[]>>();
  private watch: Watch | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private syncing: Promise<void> | undefined;
  /** Work etcd could not take while unreachable (address releases), done in order once it answers. */
  private readonly deferred: Array<() => Promise<void>> = [];
  private closed = false;
  /** etcd failed to answer since the last sync that worked: joins on carried networks do not wait for it again. */
  private unreachableSeen = false;

  constructor(private readonly deps: GlobalNetworksDeps) {}

  /** Whether etcd answered the last time it was asked (a sync that works sets it again). */
  get reachable(): boolean {
    return !this.unreachableSeen;
  }

  get node(): string {
    return this.deps.node;
  }

  /** Records known before etcd answers (this host's copies): shown until the first sync replaces them. */
  seed(records: Iterable<NetworkRecord>): void {
    for (const record of records) this.records.set(record.id, record);
  }

  /**
   * Watches and lists the cluster's networks. etcd unreachable: logged, the view stays as seeded,
   * and it is tried again in the background until it works.
   */
  async start(): Promise<void> {
    try {
      await this.sync();
    } catch (error) {
      this.deps.log.warn({ err: error }, 'etcd unreachable: global networks are shown as this host last knew them until it answers');
      this.unreachableSeen = true;
      this.retryLater();
    }
  }

  list(): NetworkRecord[] {
    return [...this.records.values()];
  }

  get(id: string): NetworkRecord | undefined {
    return this.records.get(id);
  }

  /** The hosts that have endpoints on a network, as the view last saw them. */
  hostsWithEndpoints(networkId: string): string[] {
    return [...(this.hosts.get(networkId) ?? new Map<string, string[]>())].filter(([, endpoints]) => endpoints.length > 0).map(([node]) => node);
  }

  /** Stores a new network, claiming its name cluster-wide: ConflictError when any host has it. */
  async claim(record: NetworkRecord): Promise<void> {
    try {
      await this.unreachableAs('create the global network ' + record.name, () =>
        this.deps.store.commit([
          { type: 'put', key: NAMES + record.name, value: Buffer.from(record.id), expectVersion: 0 },
          { type: 'put', key: NETWORKS + record.id, value: json(record), expectVersion: 0 },
        ]),
      );
    } catch (error) {
      if (error instanceof CasConflictError) throw new ConflictError(`network with name ${record.name} already exists`);
      throw error;
    }
    this.records.set(record.id, record);
  }

  /**
   * Removes a network from the cluster once no host has endpoints on it; refused naming the hosts
   * that have. Every controller sees the record go (removed()).
   */
  async remove(record: NetworkRecord): Promise<void> {
    await this.unreachableAs(`remove the global network ${record.name}`, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await this.deps.store.get(NETWORKS + record.id);
        if (!current) throw new NotFoundError(`network ${record.name} not found`);
        const hostEntries = await this.deps.store.list(NETWORKS + record.id + HOSTS);
        const busy = hostEntries.filter((entry) => endpointsOf(entry).length > 0).map((entry) => (parseNetworkKey(entry.key) as { node: string }).node);
        if (busy.length > 0) throw new ForbiddenError(activeEndpointsMessage(record, busy));
        const ops: Op[] = [
          { type: 'delete', key: NETWORKS + record.id, expectVersion: current.version },
          { type: 'delete', key: NAMES + record.name },
          ...hostEntries.map((entry): Op => ({ type: 'delete', key: entry.key, expectVersion: entry.version })),
        ];
        try {
          await this.deps.store.commit(ops);
          return;
        } catch (error) {
          if (!(error instanceof CasConflictError)) throw error; // a host joined meanwhile: look again
        }
      }
      throw new ClusterUnavailableError(`could not remove network ${record.name}: other hosts kept changing it during ${MAX_ATTEMPTS} attempts; retry`);
    });
    this.forget(record.id);
  }

  /**
   * Records that this host has `endpointId` on the network, before the endpoint is made. etcd
   * unreachable on a network this host `carries` (its driver has it): the catch-up writes it
   * once etcd answers (the endpoint is in ownEndpoints by then); elsewhere refused.
   */
  async enter(networkId: string, endpointId: string, carries: boolean): Promise<void> {
    // Known down: each call would wait out the store's retry window before failing.
    if (carries && this.unreachableSeen) return this.enterLater(networkId, endpointId, 'it did not answer the last time it was asked');
    try {
      await this.writeOwn(networkId, (endpoints) => (endpoints.includes(endpointId) ? endpoints : [...endpoints, endpointId]), true);
    } catch (error) {
      if (!(carries && error instanceof StoreUnavailableError)) throw clusterError(`connect to the global network ${this.records.get(networkId)?.name ?? networkId}`, error);
      this.enterLater(networkId, endpointId, error);
    }
  }

  /** etcd unreachable on a network this host carries: the endpoint joins, and the catch-up records it. */
  private enterLater(networkId: string, endpointId: string, why: unknown): void {
    this.deps.log.warn({ err: why, network: networkId, endpoint: endpointId }, 'etcd unreachable: the endpoint joins a network this host carries, and is recorded in etcd once it answers');
    this.unreachableSeen = true;
    this.retryLater();
  }

  /** The endpoint is gone from this host. etcd unreachable: written when it is back (never an error). */
  async leave(networkId: string, endpointId: string): Promise<void> {
    try {
      await this.writeOwn(networkId, (endpoints) => endpoints.filter((id) => id !== endpointId), false);
    } catch (error) {
      // The endpoint is gone here whatever etcd says: the next sync writes it.
      this.deps.log.warn({ err: error, network: networkId, endpoint: endpointId }, 'could not record the endpoint\'s removal in etcd: it is once etcd answers');
      if (error instanceof StoreUnavailableError) this.unreachableSeen = true;
      this.retryLater();
    }
  }

  /** Work that failed because etcd was unreachable: done at the next sync that reaches it. */
  later(work: () => Promise<void>): void {
    this.deferred.push(work);
    this.retryLater();
  }

  /**
   * Rewrites this host's endpoints on a network from `change(current)`. A host's first endpoint
   * rewrites the record too, guarded by its version (see the top of the file); `mustExist`: the
   * record must be there (NotFoundError otherwise).
   */
  private async writeOwn(networkId: string, change: (endpoints: string[]) => string[], mustExist: boolean): Promise<void> {
    const hostKey = NETWORKS + networkId + HOSTS + encodeURIComponent(this.deps.node);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [record, host] = await Promise.all([this.deps.store.get(NETWORKS + networkId), this.deps.store.get(hostKey)]);
      if (!record) {
        if (mustExist) throw new NotFoundError(`network ${this.records.get(networkId)?.name ?? networkId} not found`);
        if (host) await this.deps.store.delete(hostKey);
        return;
      }
      const before = endpointsOf(host);
      const after = change(before);
      if (after.length === before.length && after.every((id, i) => id === before[i])) return;
      const ops: Op[] =
        after.length === 0
          ? [{ type: 'delete', key: hostKey, expectVersion: host!.version }]
          : [{ type: 'put', key: hostKey, value: json({ endpoints: after }), expectVersion: host?.version ?? 0 }];
      if (before.length === 0) ops.push({ type: 'put', key: NETWORKS + networkId, value: record.value, expectVersion: record.version });
      try {
        await this.deps.store.commit(ops);
        return;
      } catch (error) {
        if (!(error instanceof CasConflictError)) throw error;
      }
    }
    throw new ClusterUnavailableError(`could not record this host's endpoints on network ${networkId}: other hosts kept changing it during ${MAX_ATTEMPTS} attempts; retry`);
  }

  /**
   * Watch first, then list, then the events that came meanwhile: replayed over the list in
   * order, they leave each key as its last change made it, so nothing between the two is lost.
   */
  private sync(): Promise<void> {
    return (this.syncing ??= (async () => {
      await this.watch?.close();
      this.watch = undefined;
      const pending: WatchEvent[] = [];
      let live = false;
      const watch = await this.deps.store.watch(
        NETWORKS,
        (event) => (live ? this.apply(event) : pending.push(event)),
        (error) => {
          this.deps.log.warn({ err: error }, 'etcd ended the watch on global networks: listing them again');
          this.retryLater();
        },
      );
      try {
        this.replace(await this.deps.store.list(NETWORKS));
      } catch (error) {
        await watch.close();
        throw error;
      }
      if (this.closed) return void (await watch.close());
      this.watch = watch;
      this.unreachableSeen = false;
      for (const event of pending) this.apply(event);
      live = true;
      await this.catchUp();
    })().finally(() => (this.syncing = undefined)));
  }

  /**
   * Writes this host's endpoints where etcd's differ from the local store's, and does the work
   * deferred while etcd was away. etcd failing again: the rest waits for the next sync.
   */
  private async catchUp(): Promise<void> {
    while (this.deferred.length > 0) {
      await this.deferred[0]!().catch((error: unknown) => {
        if (error instanceof StoreUnavailableError) throw error;
        this.deps.log.warn({ err: error }, 'work deferred while etcd was unreachable failed: dropped');
      });
      this.deferred.shift();
    }
    for (const networkId of new Set([...this.records.keys(), ...[...this.hosts].filter(([, nodes]) => nodes.has(this.deps.node)).map(([id]) => id)])) {
      const own = this.deps.ownEndpoints(networkId);
      const stored = this.hosts.get(networkId)?.get(this.deps.node) ?? [];
      if (own.length === stored.length && own.every((id) => stored.includes(id))) continue;
      await this.writeOwn(networkId, () => own, false);
    }
    await this.deps.caughtUp?.();
  }

  /** Sync again after a delay that grows while etcd stays away; one at a time. */
  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.sync().then(
        () => (this.retryDelay = RETRY_MIN_MS),
        (error: unknown) => {
          this.deps.log.debug({ err: error }, 'etcd still unreachable');
          if (error instanceof StoreUnavailableError) this.unreachableSeen = true;
          this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
          this.retryLater();
        },
      );
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  private apply(event: WatchEvent): void {
    const key = event.type === 'put' ? event.entry.key : event.key;
    const parsed = parseNetworkKey(key);
    if (!parsed) return;
    if (parsed.kind === 'host') {
      let nodes = this.hosts.get(parsed.id);
      if (!nodes) this.hosts.set(parsed.id, (nodes = new Map()));
      if (event.type === 'put') nodes.set(parsed.node, this.parse(event.entry, endpointsOf) ?? []);
      else nodes.delete(parsed.node);
      return;
    }
    if (event.type === 'put') {
      const record = this.parse(event.entry, (entry) => parseNetworkRecord(entry.value.toString('utf8')));
      if (record) this.records.set(parsed.id, record);
      return;
    }
    const gone = this.records.get(parsed.id);
    this.forget(parsed.id);
    if (gone) this.deps.removed(gone);
  }

  /** The view becomes exactly `entries`; networks that are no longer there are reported removed. */
  private replace(entries: readonly Entry[]): void {
    const before = new Map(this.records);
    this.records.clear();
    this.hosts.clear();
    for (const entry of entries) this.apply({ type: 'put', entry });
    for (const [id, record] of before) if (!this.records.has(id)) this.deps.removed(record);
  }

  private forget(networkId: string): void {
    this.records.delete(networkId);
    this.hosts.delete(networkId);
  }

  private parse<T>(entry: Entry, read: (entry: Entry) => T): T | undefined {
    try {
      return read(entry);
    } catch (error) {
      this.deps.log.error({ err: error, key: entry.key }, 'unreadable entry in the cluster store: left out');
      return undefined;
    }
  }

  private async unreachableAs<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw clusterError(what, error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.syncing?.catch(() => undefined);
    await this.watch?.close();
    this.watch = undefined;
  }
}
