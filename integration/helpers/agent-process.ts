// Cluster agents on the real UDP/TCP transport, run inside a test host (`nsenter --net=...`) on
// its 127.0.0.1, found through an in-memory stand-in for etcd, each with a sink recording what
// the controller would hear. Runs one scenario and prints its record as one JSON line:
// two agents find each other, publish and withdraw table entries, a third with a taken name is
// refused, and one leaves.
import { ClusterAgent, type ClusterEventSink } from '../../src/cluster/agent';
import type { DiscoveryStore } from '../../src/cluster/discovery';
import type { NodeEvent, TableEvent } from '../../src/drivers/driver';
import type { Entry, WatchEvent } from '../../src/store';

/** etcd's part as discovery uses it: keys with versions, prefix watches, leases that never expire here. */
function memoryStore(): DiscoveryStore {
  const entries = new Map<string, Entry>();
  const watchers = new Set<{ prefix: string; onEvent: (event: WatchEvent) => void }>();
  let version = 0;
  return {
    get: async (key) => entries.get(key),
    list: async (prefix) => [...entries.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => a.key.localeCompare(b.key)),
    async watch(prefix, onEvent) {
      const watcher = { prefix, onEvent };
      watchers.add(watcher);
      return { close: async () => void watchers.delete(watcher) };
    },
    async putLeased(key, value) {
      const entry = { key, value, version: ++version };
      entries.set(key, entry);
      for (const w of watchers) if (key.startsWith(w.prefix)) w.onEvent({ type: 'put', entry });
      return {
        healthy: true,
        release: async () => {
          entries.delete(key);
          for (const w of watchers) if (key.startsWith(w.prefix)) w.onEvent({ type: 'delete', key });
        },
      };
    },
  };
}

type Heard = { kind: 'discoverNew' | 'discoverDelete'; event: NodeEvent } | { kind: 'table'; event: Omit<TableEvent, 'value'> & { value: string } };

function recordingSink(heard: Heard[], published: ReturnType<ClusterEventSink['publishedEntries']> = []): ClusterEventSink {
  return {
    publishedEntries: () => published,
    discoverNew: async (event) => void heard.push({ kind: 'discoverNew', event }),
    discoverDelete: async (event) => void heard.push({ kind: 'discoverDelete', event }),
    notifyTableEvent: async (event) => {
      heard.push({ kind: 'table', event: { type: event.type, networkId: event.networkId, table: event.table, key: event.key, value: event.value.toString() } });
      return true;
    },
  };
}

const log = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, child: () => log };

async function waitFor(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const store = memoryStore();
  const heardA: Heard[] = [];
  const heardB: Heard[] = [];
  const open = (name: string, port: number) => ClusterAgent.open({ nodeName: name, advertiseAddress: '127.0.0.1', gossipPort: port, store, storeEndpoints: ['memory'], log });
  const a = await open('node-a', 17946);
  const b = await open('node-b', 17947);
  await a.start(recordingSink(heardA));
  await b.start(recordingSink(heardB));
  await waitFor('a and b alive to each other', () => [a, b].every((x) => x.members().filter((m) => m.state === 'alive').length === 2));

  // Each publishes on the network; each hears the other's entry, not its own.
  await a.publish('net-1', [{ table: 'endpoints', key: 'ep-a', value: Buffer.from('from-a') }]);
  await b.publish('net-1', [{ table: 'endpoints', key: 'ep-b', value: Buffer.from('from-b') }]);
  await waitFor('entries heard', () => heardA.some((h) => h.kind === 'table') && heardB.some((h) => h.kind === 'table'));
  await a.publish('net-1', [{ table: 'endpoints', key: 'ep-a', value: Buffer.from('from-a-v2') }]);
  await waitFor('update heard', () => heardB.filter((h) => h.kind === 'table').length >= 2);
  await a.withdraw('net-1', [{ table: 'endpoints', key: 'ep-a', value: Buffer.alloc(0) }]);
  await a.withdraw('net-1', [{ table: 'endpoints', key: 'ep-a', value: Buffer.alloc(0) }]); // twice: no error
  await waitFor('delete heard', () => heardB.filter((h) => h.kind === 'table').length >= 3);
  await waitFor('networks gossiped', () => a.members().every((m) => m.networks.includes('net-1')));
  const membersSeenByA = a.members();

  let taken: string | undefined;
  const impostor = await open('node-a', 17948);
  await impostor.start(recordingSink([])).catch((error: Error) => (taken = `${error.name}: ${error.message}`));
  await impostor.stop();

  await b.stop();
  await waitFor('b seen leaving', () => a.members().find((m) => m.name === 'node-b')?.state === 'left');
  await waitFor('a told of the departure', () => heardA.some((h) => h.kind === 'discoverDelete'));

  // A restarted node publishes again what its endpoints published before.
  const restarted = await open('node-b', 17947);
  await restarted.start(recordingSink([], [{ networkId: 'net-1', entries: [{ table: 'endpoints', key: 'ep-b', value: Buffer.from('from-b-restarted') }] }]));
  await waitFor('the restarted node\'s entry heard', () => heardA.some((h) => h.kind === 'table' && h.event.value === 'from-b-restarted'));
  await restarted.stop();
  await a.stop();
  process.stdout.write(`${JSON.stringify({ heardA, heardB, membersSeenByA, taken })}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
