// One daemon's part in the cluster: the gossip transport, key ring, membership and network tables,
// found through etcd (discovery.ts). It is the controller's TablePublisher, and hands the entries
// other hosts publish and the hosts that come and go to the controller, which passes them to drivers.
import type { NodeEvent, TableEntry, TableEvent } from '../drivers/driver';
import type { Logger } from '../util/logger';
import { keyId } from './config';
import type { DropReason } from './crypto';
import { Discovery, type DiscoveryStore, NodeNameTakenError } from './discovery';
import { Keyring, KeyringError } from './keyring';
import type { MemberState } from './codec';
import { Membership } from './membership';
import { NetworkTables, TableError } from './network-tables';
import { splitAddress, type TrafficCounters, UdpTransport } from './udp-transport';

/** Where the agent sends what it hears (the controller). */
export interface ClusterEventSink {
  discoverNew(event: NodeEvent): Promise<void>;
  discoverDelete(event: NodeEvent): Promise<void>;
  notifyTableEvent(event: TableEvent): Promise<boolean>;
  /** The entries this host's endpoints publish, by network: published again when the agent starts (a restarted daemon's). */
  publishedEntries(): Array<{ networkId: string; entries: TableEntry[] }>;
}

export interface ClusterAgentOptions {
  nodeName: string;
  /** An IP of this host (already checked), bound and announced. */
  advertiseAddress: string;
  gossipPort: number;
  /** Without one, gossip is unencrypted (and the log says so). */
  key?: Buffer;
  store: DiscoveryStore;
  /** etcd client URLs, for `cluster info`. */
  storeEndpoints: string[];
  log: Logger;
}

export interface ClusterInfo {
  nodeName: string;
  address: string;
  encrypted: boolean;
  keyCount: number;
  primaryKey: string | undefined;
  members: number;
  aliveMembers: number;
  drops: Record<DropReason | 'table', number>;
  /** Members seen turning suspect, and the gossip port's traffic, since the daemon started. */
  suspicions: number;
  traffic: TrafficCounters;
  store: { endpoints: string[]; connected: boolean };
}

export interface MemberView {
  name: string;
  address: string;
  state: MemberState;
  incarnation: number;
  networks: string[];
}

export type ClusterKeyErrorCode = 'not-encrypted' | 'not-found' | 'primary';

export class ClusterKeyError extends Error {
  override readonly name = 'ClusterKeyError';
  constructor(
    readonly code: ClusterKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** How long start waits for etcd before going on without it (discovery keeps retrying). */
const FIRST_DISCOVERY_WAIT_MS = 3_000;

export class ClusterAgent {
  private readonly keyring: Keyring | undefined;
  private readonly tables: NetworkTables;
  private readonly discovery: Discovery;
  private events: ClusterEventSink | undefined;
  /** Events reach the controller in the order they happened. */
  private delivery: Promise<unknown> = Promise.resolve();
  private started = false;
  private stopped = false;

  private constructor(
    private readonly options: ClusterAgentOptions,
    private readonly transport: UdpTransport,
    private readonly membership: Membership,
    keyring: Keyring | undefined,
  ) {
    this.keyring = keyring;
    this.tables = new NetworkTables({ membership });
    const { host, port } = splitAddress(membership.localAddress);
    this.discovery = new Discovery(options.store, { name: options.nodeName, address: host, port }, (addresses) => this.joinMembers(addresses), options.log);
  }

  /** Binds the gossip port; nothing is sent or answered until start. */
  static async open(options: ClusterAgentOptions): Promise<ClusterAgent> {
    let transport: UdpTransport;
    try {
      transport = await UdpTransport.create({ host: options.advertiseAddress, port: options.gossipPort });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is in use (another daemon or program on this host?); give another --gossip-port' : (error as Error).message;
      throw new Error(`cannot listen for gossip on ${options.advertiseAddress}:${options.gossipPort} (UDP and TCP): ${why}`);
    }
    const keyring = options.key ? new Keyring(options.key) : undefined;
    if (!keyring) options.log.warn({}, 'gossip is unencrypted: start every daemon with the same --gossip-key FILE to encrypt and authenticate it');
    return new ClusterAgent(options, transport, new Membership({ name: options.nodeName, transport, ...(keyring ? { keyring } : {}) }), keyring);
  }

  /** Starts gossip and discovery; events go to `events` from now on. Throws if the node name is taken. */
  async start(events: ClusterEventSink): Promise<void> {
    this.events = events;
    this.started = true;
    this.membership.start();
    this.tables.onNodeEvent((event) => {
      const node: NodeEvent = { address: splitAddress(event.address).host, self: event.self };
      this.deliver(`node ${event.type} of ${event.name}`, (sink) => (event.type === 'join' ? sink.discoverNew(node) : sink.discoverDelete(node)));
    });
    this.tables.onTableEvent((event) => this.deliver(`table ${event.table} ${event.type} of ${event.key}`, (sink) => sink.notifyTableEvent(event)));
    this.tables.start();
    for (const { networkId, entries } of events.publishedEntries()) {
      // One set the tables refuse (written by an older release, say) must not keep the daemon from starting.
      await this.publish(networkId, entries).catch((error: unknown) => this.options.log.error({ err: error, network: networkId }, 'could not publish an endpoint\'s entries again: other hosts do not see it'));
    }
    let timer: NodeJS.Timeout | undefined;
    const firstProblem = await Promise.race([this.discovery.start(), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), FIRST_DISCOVERY_WAIT_MS)))]);
    clearTimeout(timer);
    if (firstProblem instanceof NodeNameTakenError) throw firstProblem;
    if (!this.discovery.connected) {
      this.options.log.warn({ endpoints: this.options.storeEndpoints }, 'the cluster store (etcd) does not answer yet: serving local networks, and joining the cluster once etcd answers');
    }
    this.options.log.info({ node: this.options.nodeName, address: this.membership.localAddress, storeConnected: this.discovery.connected }, 'cluster agent started');
  }

  /** Leaves gracefully (others see "left" at once), deregisters, and closes the gossip port. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.tables.stop();
    if (this.started) await this.membership.leave().catch(() => undefined);
    await Promise.all([this.membership.shutdown(), this.discovery.close()]);
  }

  // --- TablePublisher ------------------------------------------------------------------------

  /** Joins the network's gossip on first use, then creates or updates each entry. */
  async publish(networkId: string, entries: readonly TableEntry[]): Promise<void> {
    await this.tables.joinNetwork(networkId);
    for (const { table, key, value } of entries) {
      const known = this.tables.entries(networkId, table).find((e) => e.key === key);
      if (known) this.tables.updateEntry(networkId, table, key, value);
      else this.tables.createEntry(networkId, table, key, value);
    }
  }

  /** Deletes each entry; one already gone is no error (a retried withdraw after a crash). */
  async withdraw(networkId: string, entries: readonly TableEntry[]): Promise<void> {
    for (const { table, key } of entries) {
      try {
        this.tables.deleteEntry(networkId, table, key);
      } catch (error) {
        if (!(error instanceof TableError) || error.code === 'invalid') throw error;
      }
    }
  }

  /** The members on a network's gossip, with their addresses, as Docker lists a network's Peers. */
  peers(networkId: string): Array<{ name: string; address: string }> {
    const addresses = new Map(this.membership.members().map((m) => [m.name, splitAddress(m.address).host]));
    return this.tables.nodesOf(networkId).flatMap((name) => {
      const address = addresses.get(name);
      return address === undefined ? [] : [{ name, address }];
    });
  }

  // --- what the API shows --------------------------------------------------------------------

  info(): ClusterInfo {
    const members = this.membership.members();
    return {
      nodeName: this.options.nodeName,
      address: this.membership.localAddress,
      encrypted: this.keyring !== undefined,
      keyCount: this.keyring?.keys.length ?? 0,
      primaryKey: this.keyring && keyId(this.keyring.primaryKey),
      members: members.length,
      aliveMembers: members.filter((m) => m.state === 'alive').length,
      drops: { ...this.membership.drops.snapshot(), table: this.tables.malformed },
      suspicions: this.membership.suspectsSeen,
      traffic: { ...this.transport.traffic },
      store: { endpoints: this.options.storeEndpoints, connected: this.discovery.connected },
    };
  }

  members(): MemberView[] {
    return this.membership
      .members()
      .map(({ name, address, state, incarnation }) => ({ name, address, state, incarnation, networks: this.tables.networksOf(name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  keys(): { id: string; primary: boolean }[] {
    return this.requireKeyring().keys.map((key, index) => ({ id: keyId(key), primary: index === 0 }));
  }

  /** Adds a key for decryption (adding one already there changes nothing); returns its id. */
  addKey(key: Buffer): string {
    this.requireKeyring().addKey(key);
    return keyId(key);
  }

  /** Makes the key with this id the one that encrypts. */
  useKey(id: string): void {
    this.requireKeyring().useKey(this.keyById(id));
  }

  removeKey(id: string): void {
    try {
      this.requireKeyring().removeKey(this.keyById(id));
    } catch (error) {
      if (error instanceof KeyringError) throw new ClusterKeyError('primary', `key ${id} is the primary key, which encrypts gossip: make another key primary first (netctl cluster key use ID)`);
      throw error;
    }
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) throw new ClusterKeyError('not-encrypted', 'gossip on this daemon is unencrypted (started without --gossip-key): there is no key ring; restart every daemon with --gossip-key FILE to use one');
    return this.keyring;
  }

  private keyById(id: string): Buffer {
    const key = this.requireKeyring().keys.find((k) => keyId(k) === id);
    if (!key) throw new ClusterKeyError('not-found', `no key with id "${id}" in the key ring; list them with netctl cluster key ls`);
    return key;
  }

  private async joinMembers(addresses: string[]): Promise<void> {
    if (this.stopped) return;
    try {
      await this.membership.join(addresses);
    } catch (error) {
      // A registered member that does not answer is down or has another key; gossip repairs the rest.
      this.options.log.warn({ err: error, addresses }, 'could not join cluster members found in the cluster store');
    }
  }

  private deliver(what: string, call: (sink: ClusterEventSink) => Promise<unknown>): void {
    const sink = this.events;
    if (!sink) return;
    this.delivery = this.delivery.then(() => call(sink)).catch((error: unknown) => this.options.log.warn({ err: error }, `delivering cluster event (${what}) failed`));
  }
}
