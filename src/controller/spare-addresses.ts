// Spare addresses of the global networks this host carries: a few dynamic addresses per pool,
// recorded in the cluster store as this host's spares (not endpoints': they keep no pool in use
// and go with it) and listed in the local store, so that a join while etcd is unreachable still
// gets an address no other host can be given. Once etcd answers, spares endpoints took become
// endpoint records and the list is topped up again.
import { addressOf } from '../ip/address';
import type { IpamDriver } from '../ipam';
import { StoreUnavailableError } from '../store/errors';
import type { Store } from '../store/types';
import type { Logger } from '../util/logger';
import { KeyedSerialQueue } from '../util/serial';
import type { EndpointAddress, EndpointRecord } from './endpoint-record';
import type { NetworkRecord } from './network-record';

/**
 * Spares per pool. A join during an outage takes one per family, so four carry a few container
 * starts through an etcd restart, at the cost of four addresses per pool and carrying host.
 */
export const SPARES_PER_POOL = 4;
const PREFIX = 'spare-addresses/';

const keyOf = (poolId: string, address: string): string => `${poolId} ${address.includes('/') ? addressOf(address) : address}`;

/** The first spare of one of `poolIds`, and the list without it; undefined when there is none. */
export function takeSpare(spares: readonly EndpointAddress[], poolIds: readonly string[]): { taken: EndpointAddress; rest: EndpointAddress[] } | undefined {
  const index = spares.findIndex((spare) => poolIds.includes(spare.poolId));
  if (index < 0) return undefined;
  return { taken: spares[index]!, rest: spares.filter((_, i) => i !== index) };
}

export interface SparePlan {
  /** The spares still free (the local list, less those etcd no longer has). */
  keep: EndpointAddress[];
  /** Spare records in etcd that endpoints here took: to become endpoint records. */
  claim: EndpointAddress[];
  /** Spare records in etcd of no endpoint, list or join in flight (a crash between taking one and recording its endpoint). */
  release: EndpointAddress[];
  /** How many spares each pool lacks. */
  topUp: Map<string, number>;
}

/**
 * What to make of a network's spares once etcd answers. `inStore`: this host's spare records
 * there; `local`: the free spares as listed here; `held`: the endpoints' addresses here; `lent`:
 * spares handed to joins whose endpoints are not recorded yet (left alone).
 */
export function planSpares(input: { poolIds: readonly string[]; inStore: readonly EndpointAddress[]; local: readonly EndpointAddress[]; held: readonly EndpointAddress[]; lent: ReadonlySet<string>; target: number }): SparePlan {
  const stored = new Set(input.inStore.map((a) => keyOf(a.poolId, a.address)));
  const local = new Set(input.local.map((a) => keyOf(a.poolId, a.address)));
  const held = new Set(input.held.map((a) => keyOf(a.poolId, a.address)));
  const keep = input.local.filter((a) => stored.has(keyOf(a.poolId, a.address)));
  const claim = input.inStore.filter((a) => held.has(keyOf(a.poolId, a.address)));
  const release = input.inStore.filter((a) => {
    const key = keyOf(a.poolId, a.address);
    return !held.has(key) && !local.has(key) && !input.lent.has(key);
  });
  const topUp = new Map<string, number>();
  for (const poolId of input.poolIds) {
    const missing = input.target - keep.filter((a) => a.poolId === poolId).length;
    if (missing > 0) topUp.set(poolId, missing);
  }
  return { keep, claim, release, topUp };
}

export interface SpareDeps {
  /** The local store, where the free spares are listed to survive a restart. */
  store: Store;
  /** This host's name: the spares' holder in the cluster store. */
  node: string;
  log: Logger;
  ipamOf(network: NetworkRecord): IpamDriver | undefined;
  endpointsOf(networkId: string): EndpointRecord[];
  /** Whether etcd answered the last time it was asked. */
  storeReachable(): boolean;
}

export class SpareAddresses {
  /** Network ID → its free spares. */
  private readonly lists = new Map<string, EndpointAddress[]>();
  /** Spares handed to joins whose endpoints have not been seen recorded yet (keyOf). */
  private readonly lent = new Set<string>();
  private readonly queues = new KeyedSerialQueue();

  constructor(private readonly deps: SpareDeps) {}

  /** Reads the lists the local store has (before etcd answers, or if it never does). */
  async load(): Promise<void> {
    for (const entry of await this.deps.store.list(PREFIX)) {
      try {
        this.lists.set(entry.key.slice(PREFIX.length), (JSON.parse(entry.value.toString('utf8')) as { spares: EndpointAddress[] }).spares);
      } catch (error) {
        this.deps.log.error({ err: error, key: entry.key }, 'spare address list unreadable: left out');
      }
    }
  }

  /** etcd did not answer the last time: a join takes a spare at once rather than wait for the store to fail again. */
  storeUnreachable(): boolean {
    return !this.deps.storeReachable();
  }

  /** The free spares of a network (for inspection and tests). */
  of(networkId: string): EndpointAddress[] {
    return [...(this.lists.get(networkId) ?? [])];
  }

  /** A free spare of the network's pools of one family, now the caller's; undefined when none is left. */
  take(network: NetworkRecord, v6: boolean): Promise<EndpointAddress | undefined> {
    return this.queues.run(network.id, async () => {
      const poolIds = network.allocations.filter((a) => a.v6 === v6).map((a) => a.poolId);
      const found = takeSpare(this.of(network.id), poolIds);
      if (!found) return undefined;
      await this.save(network.id, found.rest);
      this.lent.add(keyOf(found.taken.poolId, found.taken.address));
      this.deps.log.info({ network: network.id, address: found.taken.address }, 'cluster store unreachable: a join took a spare address');
      return found.taken;
    });
  }

  /** A spare a join took and did not keep (it failed). */
  giveBack(network: NetworkRecord, spare: EndpointAddress): Promise<void> {
    return this.queues.run(network.id, async () => {
      this.lent.delete(keyOf(spare.poolId, spare.address));
      await this.save(network.id, [...this.of(network.id), spare]);
    });
  }

  /**
   * With etcd answering: spares endpoints took become endpoint records, spares of nothing are
   * released, and the list is topped up. etcd failing again: the rest waits for the next time.
   */
  refresh(network: NetworkRecord): Promise<void> {
    const ipam = this.deps.ipamOf(network);
    const spares = ipam?.spares;
    if (!ipam || !spares) return Promise.resolve();
    return this.queues.run(network.id, async () => {
      const poolIds = network.allocations.map((a) => a.poolId);
      const inStore: EndpointAddress[] = [];
      for (const poolId of poolIds) for (const address of await spares.sparesOf(poolId, this.deps.node)) inStore.push({ poolId, address });
      const held = this.deps.endpointsOf(network.id).flatMap((e) => [e.ipv4, e.ipv6].filter((a): a is EndpointAddress => a !== undefined));
      const plan = planSpares({ poolIds, inStore, local: this.of(network.id), held, lent: this.lent, target: SPARES_PER_POOL });
      for (const address of held) this.lent.delete(keyOf(address.poolId, address.address));
      for (const spare of plan.claim) await spares.claimSpare(spare.poolId, spare.address);
      for (const spare of plan.release) {
        this.deps.log.warn({ network: network.id, address: spare.address }, 'spare address of no endpoint (left by a crash): releasing it');
        await ipam.releaseAddress(spare.poolId, spare.address);
      }
      const list = plan.keep;
      try {
        for (const [poolId, missing] of plan.topUp) for (let i = 0; i < missing; i++) list.push({ poolId, address: await spares.requestSpare(poolId, this.deps.node) });
      } finally {
        // What was taken before a failure is listed: it is this host's in etcd.
        await this.save(network.id, list);
      }
    });
  }

  /** Tops up in the background (after a join) when spares are missing and etcd answers: a failure is logged, the next refresh retries. */
  refreshLater(network: NetworkRecord): void {
    if (!this.deps.storeReachable() || this.of(network.id).length >= SPARES_PER_POOL * network.allocations.length) return;
    void this.refresh(network).catch((error: unknown) => {
      if (error instanceof StoreUnavailableError) this.deps.log.debug({ err: error, network: network.id }, 'spare addresses not topped up: etcd unreachable');
      else this.deps.log.warn({ err: error, network: network.id }, 'could not top up the spare addresses');
    });
  }

  /** This host lets go of the network: its spares go with the network's pools, the list here too. */
  forget(networkId: string): Promise<void> {
    return this.queues.run(networkId, async () => {
      this.lists.delete(networkId);
      await this.deps.store.delete(PREFIX + networkId);
    });
  }

  private async save(networkId: string, spares: EndpointAddress[]): Promise<void> {
    await this.deps.store.put(PREFIX + networkId, Buffer.from(JSON.stringify({ spares })));
    this.lists.set(networkId, spares);
  }
}
