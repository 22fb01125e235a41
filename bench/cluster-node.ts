// One member of the dissemination benchmark, run inside a test host: the daemon's cluster agent
// (the same gossip port, key ring, membership and tables, found through etcd) with no controller
// around it, because no built-in driver publishes table entries yet. Reads commands on stdin:
//   put KEY     publish KEY in the bench network's table, now
// and prints a line for each entry of another host it hears: `heard KEY NS` (NS: CLOCK_MONOTONIC
// in ns, which every process on the machine shares). `ready` once it has published its own entry.
import fs from 'node:fs';
import readline from 'node:readline';
import { ClusterAgent } from '../src/cluster/agent';
import { GlobalStore } from '../src/store/etcd';

const [name, address, etcd, keyFile] = process.argv.slice(2);
const NETWORK = 'bench-network';
const TABLE = 'bench';
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, trace: () => {}, fatal: () => {}, child: () => quiet };

async function main(): Promise<void> {
  if (!name || !address || !etcd) throw new Error('usage: cluster-node NAME ADDRESS ETCD-URL [KEY-FILE]');
  const store = new GlobalStore({ endpoints: [etcd] });
  const key = keyFile ? Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64') : undefined;
  const agent = await ClusterAgent.open({ nodeName: name, advertiseAddress: address, gossipPort: 7946, ...(key ? { key } : {}), store, storeEndpoints: [etcd], log: quiet });
  const say = (line: string): boolean => process.stdout.write(`${line}\n`);
  await agent.start({
    discoverNew: async () => {},
    discoverDelete: async () => {},
    publishedEntries: () => [],
    notifyTableEvent: async (event) => {
      if (event.type !== 'delete') say(`heard ${event.key} ${process.hrtime.bigint()}`);
      return true;
    },
  });
  await agent.publish(NETWORK, [{ table: TABLE, key: `member-${name}`, value: Buffer.from(name) }]);
  say('ready');
  const stop = async (): Promise<void> => {
    await agent.stop();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [command, entry] = line.split(' ');
    if (command === 'put' && entry) await agent.publish(NETWORK, [{ table: TABLE, key: entry, value: Buffer.from(String(process.hrtime.bigint())) }]);
  }
  await stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
