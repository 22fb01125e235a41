// How daemons find each other: each registers itself in etcd under `cluster/nodes/<name>` =
// {address, port}, bound to a lease it keeps alive, lists the others and joins them, and joins
// every one that registers later (a watch). Membership then runs over gossip alone, so etcd
// going away stops only discovery of new members; this retries in the background (bounded
// backoff) and catches up once etcd answers again.
import type { Entry, LeasedKey, Watch, WatchEvent } from '../store';
import type { Logger } from '../util/logger';
import { joinAddress } from './udp-transport';

export const NODES_PREFIX = 'cluster/nodes/';
const LEASE_TTL_SECONDS = 10;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** What discovery needs of the global store. */
export interface DiscoveryStore {
  get(key: string): Promise<Entry | undefined>;
  list(prefix: string): Promise<Entry[]>;
  watch(prefix: string, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Promise<Watch>;
  putLeased(key: string, value: Buffer, ttlSeconds: number, onLost: (error: Error) => void): Promise<LeasedKey>;
}

export interface NodeRecord {
  address: string;
  port: number;
}

export class NodeNameTakenError extends Error {
  override readonly name = 'NodeNameTakenError';
}

const gossipAddress = (record: NodeRecord): string => joinAddress(record.address, record.port);

function decodeRecord(value: Buffer): NodeRecord | undefined {
  try {
    const record = JSON.parse(value.toString('utf8')) as Partial<NodeRecord>;
    return typeof record.address === 'string' && Number.isInteger(record.port) ? { address: record.address, port: record.port! } : undefined;
  } catch {
    return undefined;
  }
}

export class Discovery {
  private registration: LeasedKey | undefined;
  private watch: Watch | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private lastProblem: string | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: DiscoveryStore,
    private readonly self: { name: string } & NodeRecord,
    /** Joins members at these gossip addresses ("host:port"). */
    private readonly join: (addresses: string[]) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Registered, watching, and etcd answering keep-alives. */
  get connected(): boolean {
    return this.registration?.healthy === true && this.watch !== undefined;
  }

  /** Registers and joins; resolves after the first attempt with its failure, if any (failures retry in the background). */
  start(): Promise<Error | undefined> {
    return this.attempt();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.running?.catch(() => undefined);
    await Promise.all([this.registration?.release(), this.watch?.close()]);
  }

  private async attempt(): Promise<Error | undefined> {
    this.running = this.connect();
    try {
      await this.running;
      if (this.lastProblem) this.log.info({}, 'cluster store answers again: registered and joined');
      this.lastProblem = undefined;
      this.retryMs = FIRST_RETRY_MS;
      return undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastProblem) this.log.warn({ err: error, retryInMs: this.retryMs }, 'cluster discovery through etcd failed; retrying in the background (members already known keep gossiping)');
      this.lastProblem = message;
      this.retryLater();
      return error as Error;
    } finally {
      this.running = undefined;
    }
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) void this.attempt();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private async connect(): Promise<void> {
    const key = NODES_PREFIX + this.self.name;
    if (!this.registration) {
      const known = await this.store.get(key);
      const record = known && decodeRecord(known.value);
      if (record && (record.address !== this.self.address || record.port !== this.self.port)) {
        throw new NodeNameTakenError(
          `node name "${this.self.name}" is registered by ${gossipAddress(record)} in the cluster store; give this daemon another --node-name (a stopped daemon's name frees itself within ${LEASE_TTL_SECONDS} s)`,
        );
      }
      const value = Buffer.from(JSON.stringify({ address: this.self.address, port: this.self.port } satisfies NodeRecord));
      this.registration = await this.store.putLeased(key, value, LEASE_TTL_SECONDS, (error) => {
        this.log.warn({ err: error }, 'cluster registration lost (etcd unreachable longer than its lease); registering again');
        this.registration = undefined;
        this.retryLater();
      });
    }
    if (this.closed) return;
    if (!this.watch) {
      this.watch = await this.store.watch(NODES_PREFIX, (event) => this.heard(event), () => {
        // etcd ended the watch for good (compacted history): list and watch again.
        this.watch = undefined;
        this.retryLater();
      });
    }
    const peers = (await this.store.list(NODES_PREFIX)).filter((entry) => entry.key !== key);
    const addresses = peers.map((entry) => decodeRecord(entry.value)).filter((r): r is NodeRecord => r !== undefined).map(gossipAddress);
    if (addresses.length > 0) await this.join(addresses);
  }

  private heard(event: WatchEvent): void {
    if (event.type !== 'put' || event.entry.key === NODES_PREFIX + this.self.name) return;
    const record = decodeRecord(event.entry.value);
    if (record) void this.join([gossipAddress(record)]);
  }
}
